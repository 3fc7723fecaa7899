// Behaviour shared by every page, kept out of the markup so the Content-Security-Policy can
// forbid inline script.
(function () {
  "use strict";

  // A <select data-autosubmit> submits its form when it changes.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.requestSubmit();
    }
  });

  // A POST form sends once: a second click (or Enter) while the first submission is on its way
  // is dropped and the form's buttons are disabled. The server refuses duplicates too where it
  // matters (the raise-an-item form's one-time token). GET forms (filters) and forms marked
  // data-allow-resubmit are left alone. The buttons come back when an htmx request of the form
  // ends, when the page is shown again from the back/forward cache, and after a few seconds in
  // any case (a download leaves the page as it was).
  var RELEASE_AFTER_MS = 8000;

  function submitButtons(form) {
    return Array.prototype.filter.call(form.elements, function (element) {
      return element.type === "submit";
    });
  }

  function release(form) {
    if (!form.hasAttribute("data-submitting")) {
      return;
    }
    form.removeAttribute("data-submitting");
    form.removeAttribute("aria-busy");
    submitButtons(form).forEach(function (button) {
      if (button.hasAttribute("data-disabled-on-submit")) {
        button.removeAttribute("data-disabled-on-submit");
        button.disabled = false;
      }
    });
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || form.hasAttribute("data-allow-resubmit")) {
        return;
      }
      var post = (form.getAttribute("method") || "").toLowerCase() === "post" || form.hasAttribute("hx-post");
      if (!post) {
        return;
      }
      if (form.hasAttribute("data-submitting")) {
        // Captured before htmx's own listener on the form: no second request either way.
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      form.setAttribute("data-submitting", "");
      form.setAttribute("aria-busy", "true");
      // Disabled only after this event: a disabled submitter would drop its name and value.
      window.setTimeout(function () {
        if (!form.hasAttribute("data-submitting")) {
          return;
        }
        submitButtons(form).forEach(function (button) {
          if (!button.disabled) {
            button.disabled = true;
            button.setAttribute("data-disabled-on-submit", "");
          }
        });
      }, 0);
      window.setTimeout(function () {
        release(form);
      }, RELEASE_AFTER_MS);
    },
    true
  );

  document.addEventListener("htmx:afterRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (element instanceof HTMLFormElement) {
      release(element);
    }
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      Array.prototype.forEach.call(document.forms, release);
    }
  });
})();
