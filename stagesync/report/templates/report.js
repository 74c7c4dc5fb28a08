(function () {
  "use strict";
  var doc = document;
  var bar = doc.getElementById("filters");
  if (!bar) { return; }
  var ops = Array.prototype.slice.call(doc.querySelectorAll("article.op"));
  var keys = ops.map(function (el) { return (el.getAttribute("data-key") || "").toLowerCase(); });
  var groups = Array.prototype.slice.call(doc.querySelectorAll("details.group"));
  var boxes = Array.prototype.slice.call(bar.querySelectorAll("input[type=checkbox]"));
  var search = doc.getElementById("search");
  var counter = doc.getElementById("shown");

  function chosen(name) {
    var out = {};
    boxes.forEach(function (box) { if (box.name === name && box.checked) { out[box.value] = true; } });
    return out;
  }

  function apply(fromHash) {
    var kinds = chosen("kind");
    var actions = chosen("action");
    var query = search.value.trim().toLowerCase();
    var shown = 0;
    for (var i = 0; i < ops.length; i++) {
      var el = ops[i];
      var visible = kinds[el.getAttribute("data-kind")] === true &&
        actions[el.getAttribute("data-action")] === true &&
        (query === "" || keys[i].indexOf(query) !== -1);
      if (el.hidden === visible) { el.hidden = !visible; }
      if (visible) { shown++; }
    }
    groups.forEach(function (group) {
      var all = group.querySelectorAll("article.op").length;
      var visible = group.querySelectorAll("article.op:not([hidden])").length;
      group.hidden = all > 0 && visible === 0;
      var count = group.querySelector(".count");
      if (count) { count.textContent = visible === all ? String(all) : visible + " of " + all; }
      if (query !== "" && visible > 0) { group.open = true; }
    });
    counter.textContent = shown + " of " + ops.length + " operations shown";
    if (!fromHash) { writeHash(query); }
  }

  function writeHash(query) {
    var parts = [];
    ["kind", "action"].forEach(function (name) {
      var all = boxes.filter(function (b) { return b.name === name; });
      var on = all.filter(function (b) { return b.checked; });
      if (on.length !== all.length) {
        parts.push(name + "=" + on.map(function (b) { return encodeURIComponent(b.value); }).join(","));
      }
    });
    if (query !== "") { parts.push("q=" + encodeURIComponent(query)); }
    try { history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname); } catch (e) { /* file: URLs in some browsers */ }
  }

  function readHash() {
    var hash = location.hash.replace(/^#/, "");
    if (hash === "") { return; }
    hash.split("&").forEach(function (part) {
      var eq = part.indexOf("=");
      if (eq < 0) { return; }
      var name = part.slice(0, eq);
      var value = decodeURIComponent(part.slice(eq + 1));
      if (name === "q") { search.value = value; return; }
      var wanted = value === "" ? [] : value.split(",");
      boxes.forEach(function (box) {
        if (box.name === name) { box.checked = wanted.indexOf(box.value) !== -1; }
      });
    });
  }

  function toggleAll(open) {
    groups.forEach(function (group) { if (!group.hidden) { group.open = open; } });
  }

  bar.addEventListener("change", function () { apply(false); });
  search.addEventListener("input", function () { apply(false); });
  doc.getElementById("expand").addEventListener("click", function () { toggleAll(true); });
  doc.getElementById("collapse").addEventListener("click", function () { toggleAll(false); });
  doc.getElementById("reset").addEventListener("click", function () {
    boxes.forEach(function (box) { box.checked = true; });
    search.value = "";
    apply(false);
  });
  readHash();
  bar.hidden = false;
  apply(true);
  doc.documentElement.setAttribute("data-ready", String(Math.round(performance.now())));
})();
