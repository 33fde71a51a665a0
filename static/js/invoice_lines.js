// The invoice editor: "Add a line" adds a row in place (without it, the button posts and the
// page comes back with one more row), and the total follows what is typed. The server still
// parses and checks every price; this total is for the eye only.
(function () {
  "use strict";

  var form = document.querySelector("form[data-invoice-lines]");
  if (!form) { return; }
  var exponents = JSON.parse(document.getElementById("currency-exponents").textContent);
  var rows = form.querySelector("[data-lines]");
  var template = document.querySelector("template[data-empty-line]");
  var count = form.querySelector("input[name=lines-TOTAL_FORMS]");
  var max = parseInt(form.querySelector("input[name=lines-MAX_NUM_FORMS]").value, 10);
  var addButton = form.querySelector("[data-add-line]");
  var total = form.querySelector("[data-live-total]");

  function places() {
    var code = form.querySelector("[name=currency]").value;
    return exponents[code] === undefined ? 2 : exponents[code];
  }

  // "1,234.5" in a currency with `digits` decimals -> 123450; NaN if it is not an amount.
  function minor(text, digits) {
    text = (text || "").trim().replace(/,/g, "");
    var match = /^(\d+)(?:\.(\d+))?$/.exec(text);
    if (!match || (match[2] || "").length > digits) { return NaN; }
    var fraction = ((match[2] || "") + "000").slice(0, digits);
    return parseInt(match[1], 10) * Math.pow(10, digits) + (digits ? parseInt(fraction, 10) : 0);
  }

  function format(value, digits) {
    var unit = Math.pow(10, digits);
    var text = Math.floor(value / unit).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return digits ? text + "." + String(value % unit).padStart(digits, "0") : text;
  }

  function field(row, name) {
    return row.querySelector("[name$=-" + name + "]");
  }

  function recompute() {
    var digits = places(), sum = 0, unreadable = false;
    rows.querySelectorAll("tr.inv-line").forEach(function (row) {
      var removed = field(row, "DELETE");
      var price = field(row, "unit_price").value;
      if ((removed && removed.checked) || (!price.trim() && !field(row, "description").value.trim())) {
        return;
      }
      var amount = minor(price, digits), quantity = parseInt(field(row, "quantity").value, 10);
      if (isNaN(amount) || isNaN(quantity)) { unreadable = true; return; }
      sum += amount * quantity;
    });
    var code = form.querySelector("[name=currency]").value;
    total.textContent = unreadable
      ? "Total: a quantity or a price is not a number yet (e.g. 49.99)."
      : "Total: " + inLocale(sum, digits, code);
  }

  // As the server writes it (portal/money.py, the workspace's locale and Stripe's decimals):
  // "$1,037.62", "KWD 1,037.620", "1.037,62 €". Intl is given the exact decimal as a string.
  function inLocale(value, digits, code) {
    var plain = format(value, digits).replace(/,/g, "");
    try {
      return new Intl.NumberFormat((total.dataset.locale || "en_US").replace("_", "-"), {
        style: "currency", currency: code,
        minimumFractionDigits: digits, maximumFractionDigits: digits,
      }).format(plain);
    } catch (error) {
      return format(value, digits) + " " + code;
    }
  }

  addButton.addEventListener("click", function (event) {
    event.preventDefault();
    var index = parseInt(count.value, 10);
    if (index >= max) { return; }
    var holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var row = holder.querySelector("tr");
    row.querySelectorAll("label").forEach(function (label) {
      label.textContent = label.textContent.replace("(line 0)", "(line " + (index + 1) + ")");
    });
    rows.appendChild(row);
    count.value = String(index + 1);
    addButton.hidden = index + 1 >= max;
    field(row, "description").focus();
  });

  form.addEventListener("input", recompute);
  form.addEventListener("change", recompute);
  recompute();
})();
