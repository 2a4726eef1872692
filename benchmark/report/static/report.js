/* seizure-bench report: sortable tables and the primary-metric switch. No network, no libraries. */
(function () {
  "use strict";

  // A cell's sort key: its data-sort attribute when present, else its text. Numeric columns map
  // missing, NaN and non-numeric keys to null, which always sorts last whatever the direction.
  function sortKey(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) { return null; }
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    raw = raw.trim();
    if (numeric) {
      var x = raw === "" ? NaN : Number(raw);
      return isFinite(x) ? x : null;
    }
    return raw === "" || raw === "\u2014" ? null : raw;
  }

  function compareKeys(a, b, numeric) {
    if (numeric) { return a - b; }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortBy(table, th, direction) {
    var index = th.cellIndex;
    var numeric = th.getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, position) {
      return { row: row, key: sortKey(row, index, numeric), position: position };
    });
    var sign = direction === "descending" ? -1 : 1;
    rows.sort(function (a, b) {
      if (a.key === null && b.key === null) { return a.position - b.position; }
      if (a.key === null) { return 1; }
      if (b.key === null) { return -1; }
      var c = compareKeys(a.key, b.key, numeric);
      return c !== 0 ? sign * c : a.position - b.position;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      if (cell.hasAttribute("aria-sort")) { cell.setAttribute("aria-sort", "none"); }
    });
    th.setAttribute("aria-sort", direction);
  }

  function firstDirection(th) {
    return th.getAttribute("data-dir") === "desc" ? "descending" : "ascending";
  }

  function nextDirection(th) {
    var current = th.getAttribute("aria-sort");
    if (current === "ascending") { return "descending"; }
    if (current === "descending") { return "ascending"; }
    return firstDirection(th);
  }

  function makeSortable(table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      var button = th.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () { sortBy(table, th, nextDirection(th)); });
    });
  }

  // Show the p-value columns of the chosen metric and rank rows by it, best first.
  function choosePrimary(table, metric) {
    Array.prototype.forEach.call(table.querySelectorAll("[data-metric]"), function (cell) {
      cell.hidden = cell.getAttribute("data-metric") !== metric;
    });
    table.setAttribute("data-primary", metric);
    var header = table.querySelector('th[data-sort-metric="' + metric + '"]');
    if (header) { sortBy(table, header, firstDirection(header)); }
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);

  var select = document.getElementById("primary-metric");
  if (select) {
    var table = document.getElementById(select.getAttribute("data-table"));
    if (table) {
      select.addEventListener("change", function () { choosePrimary(table, select.value); });
    }
  }
}());
