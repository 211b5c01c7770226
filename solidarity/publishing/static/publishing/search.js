/* The mirror's offline search: matches every word typed against titles and summaries of the
   index loaded by search-index.js. No network, no external code. */
(function () {
  "use strict";
  var index = window.solidaritySearchIndex || [];
  var input = document.getElementById("search-input");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var LIMIT = 100;

  function fold(text) {
    return (text || "").toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }
  var folded = index.map(function (e) { return fold(e.title + " " + e.text); });

  function run() {
    var words = fold(input.value).split(/\s+/).filter(function (w) { return w.length > 0; });
    list.textContent = "";
    if (words.join("").length < 2) {
      status.textContent = status.dataset.short;
      return;
    }
    var found = 0;
    for (var i = 0; i < index.length && found < LIMIT; i++) {
      var text = folded[i];
      if (!words.every(function (w) { return text.indexOf(w) !== -1; })) { continue; }
      found++;
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = index[i].url;
      link.textContent = index[i].title;
      if (index[i].lang) { link.lang = index[i].lang; }
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = " (" + index[i].kind + ")";
      item.appendChild(link);
      item.appendChild(kind);
      if (index[i].text) {
        var snippet = document.createElement("div");
        snippet.textContent = index[i].text;
        item.appendChild(snippet);
      }
      list.appendChild(item);
    }
    status.textContent = found ? status.dataset.count + found : status.dataset.empty;
  }
  input.addEventListener("input", run);
  // The header's search form of every page of the copy sends its words here as ?q=… (a file://
  // address keeps its query), so that a search begun on any page shows its results.
  var asked = new URLSearchParams(window.location.search).get("q");
  if (asked) { input.value = asked; }
  if (input.value) { run(); }
})();
