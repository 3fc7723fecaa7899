// Live pages (portal/live.py): lists, the board and the navigation's badges poll their fragment
// with htmx (`hx-trigger="every 20s, live-refresh"` on elements marked data-live), and the reply
// box of a case says who is replying. No trigger filter and no hx-on: both need eval, which the
// Content-Security-Policy refuses; the conditions live here instead.
(function () {
  "use strict";

  function live(element) {
    return element instanceof Element && element.hasAttribute("data-live");
  }

  // The user is working inside: a focused link or field, a ticked box (a bulk selection).
  function busy(element) {
    var active = document.activeElement;
    if (active && active !== document.body && element.contains(active)) {
      return true;
    }
    return element.querySelector("input[type='checkbox']:checked") !== null;
  }

  // No request while the tab is hidden or the user works inside the container.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (live(element) && (document.visibilityState !== "visible" || busy(element))) {
      event.preventDefault();
    }
  });

  // Send back the ETag of what the container holds: an unchanged fragment answers 204, which
  // htmx does not swap.
  document.addEventListener("htmx:configRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (live(element) && element.getAttribute("data-live-etag")) {
      event.detail.headers["If-None-Match"] = element.getAttribute("data-live-etag");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var element = event.detail && event.detail.elt;
    var request = event.detail && event.detail.xhr;
    if (live(element) && request && request.status === 200) {
      var etag = request.getResponseHeader("ETag");
      if (etag) {
        element.setAttribute("data-live-etag", etag);
      }
    }
  });

  // Back on the tab: refresh at once rather than at the next tick.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible" || !window.htmx) {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-live]"), function (element) {
      window.htmx.trigger(element, "live-refresh");
    });
  });

  // Presence: while the reply box of a case (form[data-presence-url]) has focus, tell the
  // portal every few seconds, and whether it is an internal note; stop when it loses focus or
  // the reply is sent. The portal forgets a beat after 30 s.
  var BEAT_MS = 10000;
  var beating = null;

  function say(form, state) {
    var token = form.querySelector("input[name='csrfmiddlewaretoken']");
    var internal = form.querySelector("input[name='internal']");
    var body = new URLSearchParams();
    body.append("state", state);
    if (internal && internal.checked) {
      body.append("internal", "on");
    }
    window
      .fetch(form.getAttribute("data-presence-url"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "" },
      })
      .catch(function () {});
  }

  function stop(form) {
    if (beating && beating.form === form) {
      window.clearInterval(beating.timer);
      beating = null;
      say(form, "stop");
    }
  }

  function replyBox(target) {
    if (!(target instanceof HTMLTextAreaElement) || !target.form) {
      return null;
    }
    return target.form.hasAttribute("data-presence-url") ? target.form : null;
  }

  document.addEventListener("focusin", function (event) {
    var form = replyBox(event.target);
    if (!form || (beating && beating.form === form)) {
      return;
    }
    var box = event.target;
    say(form, "replying");
    beating = {
      form: form,
      timer: window.setInterval(function () {
        // The box was swapped away (the reply was sent) or left without a focusout.
        if (!box.isConnected || document.activeElement !== box) {
          stop(form);
        } else if (document.visibilityState === "visible") {
          say(form, "replying");
        }
      }, BEAT_MS),
    };
  });

  document.addEventListener("focusout", function (event) {
    var form = replyBox(event.target);
    if (form) {
      stop(form);
    }
  });

  // Ticking "internal note" while replying changes who may see it: say so at once.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.name === "internal" && beating && beating.form === target.form) {
      say(target.form, "replying");
    }
  });

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (form instanceof HTMLFormElement && form.hasAttribute("data-presence-url")) {
        stop(form);
      }
    },
    true
  );
})();
