// Tables, progressively enhanced. Pages work without this script: every row is in the HTML.
// - class="sortable": a header button sorts its column; numbers by data-sort, dates by their
//   <time datetime>, else by text. The first click sorts in the column's useful direction
//   (data-first="desc" on the header: fastest, newest, most first; else ascending: cheapest,
//   lowest latency first).
// - tables with class "stack" (set server-side) show each row as a card on a small screen;
//   cells a template left without data-label get their header's text.
// - a wrapper that still scrolls sideways (edge shadows in site.css) becomes focusable.
// - data-filters on a table: a select per header marked data-filter, over the rows in the page.
(function () {
  "use strict";
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  function key(cell) {
    var raw = cell.getAttribute("data-sort");
    if (raw === null) {
      var time = cell.querySelector("time[datetime]");
      if (time) return time.getAttribute("datetime");
    }
    var text = raw !== null ? raw : cell.textContent.trim();
    var number = parseFloat(text);
    return raw !== null && !isNaN(number) ? number : text.toLowerCase();
  }
  function sortBy(table, index, th) {
    var body = table.tBodies[0];
    var current = th.getAttribute("aria-sort");
    var first = th.getAttribute("data-first") === "desc" ? "descending" : "ascending";
    var direction = current === null ? first : current === "ascending" ? "descending" : "ascending";
    var sign = direction === "ascending" ? 1 : -1;
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index]), y = key(b.cells[index]);
      if (x === y) return 0;
      var less = typeof x === typeof y ? x < y : typeof x === "number";
      return (less ? -1 : 1) * sign;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    each(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", direction);
  }
  function sortable(table) {
    each(table.tHead.rows[0].cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, index, th); });
    });
  }
  function labelled(table) {
    // Cards (class "stack") are chosen server-side, so a phone's layout never changes
    // under the reader; this only fills in labels a template left out.
    if (!table.classList.contains("stack")) return;
    var heads = table.tHead.rows[0].cells;
    each(table.tBodies[0].rows, function (row) {
      each(row.cells, function (cell, index) {
        if (heads[index] && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", heads[index].textContent.trim());
        }
      });
    });
  }
  function filterable(table) {
    var heads = table.tHead.rows[0].cells;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var bar = document.createElement("form");
    bar.className = "filters";
    bar.setAttribute("role", "search");
    bar.setAttribute("aria-label", "Filter " + (table.caption ? table.caption.textContent.split(";")[0] : "the table"));
    var controls = [];
    each(heads, function (th, index) {
      if (!th.hasAttribute("data-filter")) return;
      var values = {};
      rows.forEach(function (row) {
        var cell = row.cells[index];
        var value = cell.getAttribute("data-filter-value") || cell.textContent.trim();
        values[value] = (cell.getAttribute("data-sort") !== null && !isNaN(parseFloat(cell.getAttribute("data-sort"))))
          ? parseFloat(cell.getAttribute("data-sort")) : value.toLowerCase();
      });
      var names = Object.keys(values);
      if (names.length < 2) return;
      names.sort(function (a, b) { return values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0; });
      var label = document.createElement("label");
      label.textContent = th.getAttribute("data-filter") || th.textContent.trim();
      var select = document.createElement("select");
      select.add(new Option("All", ""));
      names.forEach(function (name) { select.add(new Option(name, name)); });
      label.appendChild(select);
      bar.appendChild(label);
      controls.push({ index: index, select: select });
    });
    if (!controls.length) return;
    var count = document.createElement("output");
    count.setAttribute("aria-live", "polite");
    bar.appendChild(count);
    function apply() {
      var shown = 0;
      rows.forEach(function (row) {
        var ok = controls.every(function (c) {
          var cell = row.cells[c.index];
          return !c.select.value || (cell.getAttribute("data-filter-value") || cell.textContent.trim()) === c.select.value;
        });
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      count.textContent = "Showing " + shown + " of " + rows.length;
    }
    bar.addEventListener("change", function () { apply(); });
    bar.addEventListener("submit", function (event) { event.preventDefault(); });
    var wrap = table.closest(".table-wrap") || table;
    var box = wrap.previousElementSibling;
    if (box && box.classList.contains("filter-box")) {
      // Filled while closed (server-rendered, one line tall): nothing on the page moves.
      var note = box.querySelector("p.note");
      if (note) box.removeChild(note);
      box.appendChild(bar);
      var summary = box.querySelector("summary");
      var update = apply;
      apply = function () {
        update();
        summary.textContent = "Filter the rows (" + count.textContent.toLowerCase() + ")";
      };
    } else {
      wrap.parentNode.insertBefore(bar, wrap);
    }
    apply();
  }
  function hints() {
    // The edge shadows (site.css) show that a table scrolls; this makes such a table
    // reachable by keyboard and names it, without moving anything on the page.
    each(document.querySelectorAll(".table-wrap"), function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.classList.toggle("scrolls", scrolls);
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", "Table, scrolls sideways");
      }
    });
  }
  each(document.querySelectorAll("table"), function (table) {
    if (!table.tHead || !table.tBodies.length) return;
    labelled(table);
    if (table.classList.contains("sortable")) sortable(table);
    if (table.hasAttribute("data-filters")) filterable(table);
  });
  hints();
  var pending = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(hints);
  });
})();
