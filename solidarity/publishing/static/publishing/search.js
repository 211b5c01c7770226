/* The mirror's offline search: matches every word typed against titles and summaries of the
   index loaded by search-index.js. No network, no external code.

   Each language has its search page (en/search.html, ru/search.html, …). Every word this script
   shows comes from the page (the data-* of #search-page), so that it speaks the page's language;
   results in the page's language come first, and a person, organisation or event links to its
   page in that language where the copy holds one. /search.html, the old address, has no search
   of its own (#search-forward): it leads on to the page in the browser's language. */
(function () {
  "use strict";

  function forward(list) {
    var links = list.querySelectorAll("a[hreflang]");
    var wanted = navigator.languages || [navigator.language || ""];
    var chosen = null;
    for (var i = 0; i < wanted.length && !chosen; i++) {
      var code = (wanted[i] || "").toLowerCase().split("-")[0];
      for (var j = 0; j < links.length && !chosen; j++) {
        if (links[j].hreflang === code) { chosen = links[j].href; }
      }
    }
    chosen = chosen || new URL(list.dataset.default, window.location.href).href;
    // A file:// address keeps its query: the words asked for go along.
    window.location.replace(chosen + window.location.search + window.location.hash);
  }

  var forwarding = document.getElementById("search-forward");
  if (forwarding) { forward(forwarding); return; }

  var page = document.getElementById("search-page");
  var say = page.dataset;
  var language = say.lang;
  var index = window.solidaritySearchIndex || [];
  var input = document.getElementById("search-input");
  var ownOnly = document.getElementById("search-own-language");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var LIMIT = 100;

  function fold(text) {
    return (text || "").toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }

  // What a result shows on this page: an article as it is; a record in this page's language
  // where the copy holds it, else in the default language (the entry itself).
  function shown(entry) {
    var own = entry.pages && entry.pages[language];
    if (entry.lang || !own) {
      var native = entry.lang ? entry.lang === language : language === say.defaultLang;
      return { title: entry.title, text: entry.text, url: entry.url,
               lang: entry.lang || say.defaultLang, mine: native };
    }
    return { title: "title" in own ? own.title : entry.title,
             text: "text" in own ? own.text : entry.text,
             url: own.url, lang: language, mine: true };
  }

  // A record is found by its words in any language (a name typed in Latin letters on the
  // Russian page), and shown in this page's.
  var folded = index.map(function (entry) {
    var words = [entry.title, entry.text];
    var pages = entry.pages || {};
    Object.keys(pages).forEach(function (code) { words.push(pages[code].title, pages[code].text); });
    return fold(words.join(" "));
  });

  function kindName(kind) {
    return say["kind" + kind.charAt(0).toUpperCase() + kind.slice(1)] || kind;
  }

  function item(result, kind) {
    var row = document.createElement("li");
    var link = document.createElement("a");
    link.href = (say.root || "") + result.url;
    link.textContent = result.title;
    link.lang = result.lang;
    link.hreflang = result.lang;
    var label = document.createElement("span");
    label.className = "kind";
    var about = kindName(kind);
    if (!result.mine) { about += ", " + (say["name" + result.lang.charAt(0).toUpperCase() + result.lang.slice(1)] || result.lang); }
    label.textContent = " (" + about + ")";
    row.appendChild(link);
    row.appendChild(label);
    if (result.text) {
      var snippet = document.createElement("div");
      snippet.textContent = result.text;
      snippet.lang = result.lang;
      row.appendChild(snippet);
    }
    return row;
  }

  function run() {
    var words = fold(input.value).split(/\s+/).filter(function (w) { return w.length > 0; });
    list.textContent = "";
    if (words.join("").length < 2) {
      status.textContent = say.short;
      return;
    }
    // This page's language first, then the others (unless only this language is asked for).
    var mine = [];
    var others = [];
    for (var i = 0; i < index.length; i++) {
      var text = folded[i];
      if (!words.every(function (w) { return text.indexOf(w) !== -1; })) { continue; }
      var result = shown(index[i]);
      if (result.mine) { mine.push(i); } else if (!ownOnly.checked) { others.push(i); }
    }
    var found = mine.concat(others);
    found.slice(0, LIMIT).forEach(function (i) { list.appendChild(item(shown(index[i]), index[i].kind)); });
    if (!found.length) {
      status.textContent = say.empty;
    } else {
      status.textContent = say.count + found.length +
        (found.length > LIMIT ? " " + say.more.replace("{limit}", LIMIT) : "");
    }
  }
  input.addEventListener("input", run);
  ownOnly.addEventListener("change", run);
  // The header's search form of every page of the copy sends its words here as ?q=… (a file://
  // address keeps its query), so that a search begun on any page shows its results.
  var asked = new URLSearchParams(window.location.search).get("q");
  if (asked) { input.value = asked; }
  if (input.value) { run(); }
})();
