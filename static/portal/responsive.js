// Phones and narrow windows (see responsive.css): the menu button of the navigation, and the
// column labels a table's cells show once the table is laid out as cards. Kept out of the markup
// so the Content-Security-Policy can forbid inline script; without JavaScript the navigation
// stays open (wrapped) and the cards show their values without labels.
(function () {
  "use strict";

  // The menu button: collapses the navigation under 768 px (the CSS shows the button only on
  // a nav marked data-menu, that is once this script runs). aria-expanded says the state;
  // Escape closes the menu and gives the focus back to the button.
  function setUpMenu() {
    var nav = document.querySelector("nav[data-site-nav]");
    var button = nav && nav.querySelector(".nav-toggle");
    if (!button || nav.hasAttribute("data-menu")) {
      return;
    }
    function show(open) {
      nav.setAttribute("data-menu", open ? "open" : "closed");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    show(false);
    button.addEventListener("click", function () {
      show(button.getAttribute("aria-expanded") !== "true");
    });
    nav.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.getAttribute("data-menu") === "open" && button.offsetParent !== null) {
        show(false);
        button.focus();
      }
    });
  }

  // The visible text of a header cell: without decorations marked aria-hidden (sort arrows),
  // with a space where a line break or another element separated its words.
  function headerText(cell) {
    var copy = cell.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll("[aria-hidden='true']"), function (element) {
      element.remove();
    });
    Array.prototype.forEach.call(copy.querySelectorAll("*"), function (element) {
      element.after(" ");
    });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  // Each body cell gets data-label="<its column's header>" unless it has one already; a cell
  // spanning several columns (an empty-list row) gets none.
  function labelTable(table) {
    var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head) {
      return;
    }
    var labels = [];
    Array.prototype.forEach.call(head.cells, function (cell) {
      var text = headerText(cell);
      for (var span = 0; span < cell.colSpan; span += 1) {
        labels.push(cell.colSpan === 1 ? text : "");
      }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (cell.colSpan === 1 && labels[column] && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", labels[column]);
          }
          column += cell.colSpan;
        });
      });
    });
  }

  function labelTables(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    var table = root.closest ? root.closest("table") : null;
    if (table) {
      labelTable(table);
    }
    Array.prototype.forEach.call(root.querySelectorAll("table"), labelTable);
  }

  function start() {
    setUpMenu();
    labelTables(document.body);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  // Content htmx swaps in (live lists, pages of a list) is labelled as it arrives.
  document.addEventListener("htmx:load", function (event) {
    labelTables(event.detail && event.detail.elt);
  });
})();
