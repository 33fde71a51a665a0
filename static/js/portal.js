// Times are shown in the viewer's zone: remember the browser's zone for the server.
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* old browser: times stay in UTC */ }
})();
// Buttons marked data-confirm ask first (the server asks again where it matters).
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
});
// Buttons marked data-print print the page (the recovery codes).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { window.print(); }
});
// Buttons marked data-copy="<id>" copy that field's value (a webhook URL) to the clipboard.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  var field = button && document.getElementById(button.getAttribute("data-copy"));
  if (!field) { return; }
  var done = function () { button.textContent = "Copied"; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
  } else {
    field.select();
    if (document.execCommand("copy")) { done(); }
  }
});
