/* Security keys (WebAuthn) on the login pages: the server puts the options in a JSON data
   block, a button asks the browser for the key, and the answer goes back in a hidden field of
   an ordinary POST form. Same-origin and without inline script, as the CSP demands. */
"use strict";
(function () {
  function toBuffer(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBuffer(item.id) });
    });
  }

  function creationOptions(options) {
    var user = Object.assign({}, options.user, { id: toBuffer(options.user.id) });
    return Object.assign({}, options, {
      challenge: toBuffer(options.challenge),
      user: user,
      excludeCredentials: descriptors(options.excludeCredentials)
    });
  }

  function requestOptions(options) {
    return Object.assign({}, options, {
      challenge: toBuffer(options.challenge),
      allowCredentials: descriptors(options.allowCredentials)
    });
  }

  function credentialJSON(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults()
    });
  }

  function start(button) {
    var form = button.form;
    var field = form.elements[button.dataset.field];
    var error = document.getElementById(button.dataset.error);
    var options = JSON.parse(document.getElementById(button.dataset.options).textContent);
    function fail() {
      error.hidden = false;
      button.disabled = false;
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (!form.reportValidity()) { return; }
      if (!window.PublicKeyCredential || !navigator.credentials) { fail(); return; }
      button.disabled = true;
      error.hidden = true;
      var ask = button.dataset.webauthn === "create"
        ? navigator.credentials.create({ publicKey: creationOptions(options) })
        : navigator.credentials.get({ publicKey: requestOptions(options) });
      ask.then(function (credential) {
        field.value = credentialJSON(credential);
        form.submit();
      }, fail);
    });
    button.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-webauthn]").forEach(start);
  });
})();
