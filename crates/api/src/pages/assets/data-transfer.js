// Data-transfer page: small enhancements only; every step works without script.
(function () {
  "use strict";
  // One submission per form: a second tap would spend a code guess or send another mail.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var submitter = event.submitter;
      setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        if (submitter) { submitter.setAttribute("aria-busy", "true"); }
      }, 0);
    });
  });
  // Codes pasted with spaces or dashes: keep the digits only.
  var code = document.querySelector("input[name=code]");
  if (code) {
    code.addEventListener("input", function () {
      var digits = code.value.replace(/\D+/g, "").slice(0, 6);
      if (digits !== code.value) { code.value = digits; }
    });
  }
  // Move focus to the first error so screen readers announce it.
  var error = document.querySelector(".notice.error");
  if (error) { error.setAttribute("tabindex", "-1"); error.focus(); }
})();
