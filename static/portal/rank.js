// Drag-and-drop ranking of fix requests: dropping a row moves it, renumbers the rank inputs
// 1..n in the new order and submits the form (the number inputs work without this script).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-rank-form]");
    if (!form) return;
    var body = form.querySelector("tbody");
    var dragged = null;

    function renumber() {
      var inputs = body.querySelectorAll("tr[data-fix] input[type=number]");
      inputs.forEach(function (input, index) { input.value = String(index + 1); });
    }

    body.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("tr[data-fix]");
      if (!dragged) return;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.fix);
    });
    body.addEventListener("dragover", function (event) {
      if (dragged) event.preventDefault();
    });
    body.addEventListener("drop", function (event) {
      var target = event.target.closest("tr[data-fix]");
      if (!dragged || !target || target === dragged) return;
      event.preventDefault();
      var box = target.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      body.insertBefore(dragged, after ? target.nextSibling : target);
      dragged = null;
      renumber();
      form.requestSubmit();
    });
    body.addEventListener("dragend", function () { dragged = null; });
  });
})();
