// Workflow builder: the variable picker inserts {{ path }} at the cursor; the action search
// filters the list as you type (the server filters too, for pages without JavaScript).
(function () {
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-wf-insert]");
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-wf-target"));
    if (!field) { return; }
    var text = "{{ " + button.getAttribute("data-wf-insert") + " }}";
    // At the cursor if the field has had one; otherwise at the end.
    var start = field.value.length, end = start;
    try {
      if (field.dataset.wfTouched && typeof field.selectionStart === "number") {
        start = field.selectionStart; end = field.selectionEnd;
      }
    } catch (e) { /* inputs without a selection: append */ }
    field.dataset.wfTouched = "1";
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.focus();
    try { field.setSelectionRange(start + text.length, start + text.length); } catch (e) { /* ignore */ }
    field.dispatchEvent(new Event("input", { bubbles: true }));
    var picker = button.closest("details");
    if (picker) { picker.open = false; }
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.dataset) { event.target.dataset.wfTouched = "1"; }
  });

  // One picker open at a time; Escape closes it.
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.classList || !opened.classList.contains("wf-picker") || !opened.open) { return; }
    document.querySelectorAll("details.wf-picker[open]").forEach(function (other) {
      if (other !== opened) { other.open = false; }
    });
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll("details.wf-picker[open]").forEach(function (d) { d.open = false; });
  });

  document.addEventListener("input", function (event) {
    var input = event.target.closest ? event.target.closest("[data-wf-filter]") : null;
    if (!input) { return; }
    var listId = input.getAttribute("data-wf-filter");
    var list = document.getElementById(listId);
    if (!list) { return; }
    var words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    list.querySelectorAll("[data-wf-label]").forEach(function (item) {
      var label = item.getAttribute("data-wf-label");
      var match = words.every(function (w) { return label.indexOf(w) !== -1; });
      item.hidden = !match;
      if (match) { shown += 1; }
    });
    var empty = document.getElementById(listId + "-empty");
    if (empty) { empty.hidden = shown > 0; }
  });
  // The search box submits to the server only without JavaScript.
  document.addEventListener("submit", function (event) {
    if (event.target.querySelector("[data-wf-filter]")) { event.preventDefault(); }
  });
})();
