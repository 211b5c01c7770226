/* The page of a new member's one-time link (/accounts/welcome/#u=…&t=…). The token is after
   "#", which browsers never send, so that it is in no access log of the reverse proxy: whoever
   read such a log before the member used the link could choose the member's password. This
   script puts the fragment's u and t into the page's form, takes them out of the address bar
   and of this history entry, and posts the form; the server checks them there. Without it the
   member pastes the link into the same form. Same-origin and without inline script, as the CSP
   demands. */
"use strict";
(function () {
  var fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  var form = document.getElementById("invitation-open");
  if (!form || !fragment.has("t")) { return; }
  form.elements.namedItem("u").value = fragment.get("u") || "";
  form.elements.namedItem("t").value = fragment.get("t") || "";
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  document.getElementById("invitation-paste").hidden = true;
  form.submit();
})();
