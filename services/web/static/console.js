// exportflow console: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Confirm destructive actions (reject, cancel) before the form is sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    var button = form.querySelector("button[type=submit]");
    if (button) {
      // A second click would only be refused; show that the first one is on its way.
      window.setTimeout(function () { button.disabled = true; }, 0);
    }
  });

  // "+ Add a line" on the new-order form: copy the last line with the next index.
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest("[data-add-line]");
    if (!trigger) { return; }
    var body = document.querySelector("table.lines tbody");
    var rows = body.querySelectorAll("tr.line");
    var copy = rows[rows.length - 1].cloneNode(true);
    var next = rows.length;
    copy.querySelectorAll("[name]").forEach(function (input) {
      input.name = input.name.replace(/lines\[\d+\]/, "lines[" + next + "]");
      input.value = "";
      var label = input.getAttribute("aria-label");
      if (label) { input.setAttribute("aria-label", label.replace(/\d+$/, String(next + 1))); }
    });
    copy.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    copy.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    body.appendChild(copy);
  });

  // Orders being screened change state within seconds: reload until they settle,
  // unless the user has started typing into a form.
  var refresh = parseInt(document.body.getAttribute("data-auto-refresh") || "0", 10);
  if (refresh > 0) {
    var typed = false;
    document.addEventListener("input", function () { typed = true; });
    window.setTimeout(function () { if (!typed) { window.location.reload(); } }, refresh * 1000);
  }
})();
