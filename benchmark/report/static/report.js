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

  // Move column `from` of every row to just before column `to` (the table has no spanning cells).
  function moveColumn(table, from, to) {
    if (from === to || from === to - 1) { return; }
    Array.prototype.forEach.call(table.rows, function (row) {
      var cell = row.cells[from];
      if (cell && row.cells[to]) { row.insertBefore(cell, row.cells[to]); }
    });
  }

  // Ranks of the rows in their current (best-first) order: equal keys share the better rank; rows
  // that are not ranked (failed runs) or lack the metric get none.
  function renumber(table, header) {
    var rankIndex = table.querySelector("th.rank");
    if (!rankIndex) { return; }
    var position = 0, rank = 0, previous = null;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var key = sortKey(row, header.cellIndex, true);
      var cell = row.cells[rankIndex.cellIndex];
      if (key === null || row.getAttribute("data-ranked") === "false") {
        cell.textContent = "\u2014";
        cell.setAttribute("data-sort", "");
        return;
      }
      position += 1;
      if (previous === null || key !== previous) { rank = position; }
      previous = key;
      cell.textContent = String(rank);
      cell.setAttribute("data-sort", String(rank));
    });
  }

  // Show the p-value columns of the chosen metric next to its column, and rank rows by it, best first.
  function choosePrimary(table, metric) {
    Array.prototype.forEach.call(table.querySelectorAll("[data-metric]"), function (cell) {
      cell.hidden = cell.getAttribute("data-metric") !== metric;
    });
    table.setAttribute("data-primary", metric);
    var header = table.querySelector('th[data-sort-metric="' + metric + '"]');
    var firstP = table.querySelector("th.pcol");
    if (header && firstP) { moveColumn(table, header.cellIndex, firstP.cellIndex); }
    if (header) {
      sortBy(table, header, firstDirection(header));
      // As the board's own order: sets that are not ranked (failed runs) come last.
      var body = table.tBodies[0];
      Array.prototype.slice.call(body.querySelectorAll('tr[data-ranked="false"]')).forEach(function (row) {
        body.appendChild(row);
      });
      renumber(table, header);
    }
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
