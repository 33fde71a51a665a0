// Card payments with Stripe.js's Card Element (the staff "New card" tab and the customer's
// payment-link page), and the "Use their total" button of the payment-link form.
// Data comes from data- attributes; card details go from this page to Stripe only.
(function () {
  "use strict";

  var pay = window.PortalCardPayment;

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Once the PaymentIntent exists its amount is fixed: lock what would change it.
  function lockAmount(form) {
    ["amount", "currency", "description"].forEach(function (name) {
      var input = form.querySelector("[name=" + name + "]");
      if (input) { input.readOnly = true; input.setAttribute("aria-readonly", "true"); }
    });
    var select = form.querySelector("select[name=currency]");
    if (select) {
      select.addEventListener("mousedown", function (e) { e.preventDefault(); });
      select.addEventListener("keydown", function (e) { e.preventDefault(); });
    }
  }

  function setupPayForm(form) {
    var element = pay.cardElement(form, form.querySelector("[data-card-element]"));
    var busy = pay.busyButton(form.querySelector("[data-pay-button]"));
    var clientSecret = null;
    var returnUrl = form.dataset.returnUrl || "";

    // The intent is asked for once; a retry after a decline confirms the same intent.
    function intent() {
      if (clientSecret) { return Promise.resolve(clientSecret); }
      return fetch(form.dataset.intentUrl || form.action || window.location.href, {
        method: "POST",
        body: new FormData(form),
        headers: {"X-CSRFToken": csrfToken(form), "Accept": "application/json"},
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().catch(function () {
          return {error: "Something went wrong (" + response.status + "). Please try again."};
        });
      }).then(function (data) {
        if (pay.settledAnswer(form, data)) { return null; }
        if (data.error) {
          pay.showError(form, data.error);
          if (data.closed) { window.location.reload(); }
          return null;
        }
        clientSecret = data.client_secret;
        returnUrl = data.return_url || returnUrl;
        lockAmount(form);
        return clientSecret;
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.querySelector("[data-pay-button]").disabled) { return; }
      pay.showError(form, "");
      busy(true);
      intent().then(function (secret) {
        if (!secret) { busy(false); return null; }
        var save = form.querySelector("[data-save-card]");
        return pay.confirm(form, element, secret, save, returnUrl, busy);
      }).catch(pay.networkError(form, busy));
    });
  }

  // "Use their total": the chosen bookings' prices into the amount (and their currency).
  function setupUseTotal(form) {
    var button = form.querySelector("[data-use-total]");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var boxes = form.querySelectorAll("input[name=appointments]:checked");
      var total = 0, currency = "";
      boxes.forEach(function (box) {
        total += parseInt(box.dataset.minor, 10);
        currency = box.dataset.currency;
      });
      if (!boxes.length) { return; }
      var places = {BIF: 0, CLP: 0, DJF: 0, GNF: 0, JPY: 0, KMF: 0, KRW: 0, MGA: 0, PYG: 0,
                    RWF: 0, UGX: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
                    BHD: 3, JOD: 3, KWD: 3, OMR: 3, TND: 3}[currency];
      if (places === undefined) { places = 2; }
      var unit = Math.pow(10, places);
      var text = String(Math.floor(total / unit));
      if (places) { text += "." + String(total % unit).padStart(places, "0"); }
      form.querySelector("[name=amount]").value = text;
      var select = form.querySelector("[name=currency]");
      if (select && currency) { select.value = currency; }
    });
  }

  document.querySelectorAll("form[data-pay-form]").forEach(setupPayForm);
  document.querySelectorAll("form[data-link-form]").forEach(setupUseTotal);
})();
