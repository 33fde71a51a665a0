// The invoice payer's pay form: credit card (saved, or a new one with Stripe.js's Card
// Element) or bank account (ACH). Saved cards and banks post the form as usual; a new card
// asks our server for the PaymentIntent (JSON), then confirms it with Stripe.js, so card
// details go from this page to Stripe only. Settings come from data- attributes.
(function () {
  "use strict";

  function checked(form, name) {
    var input = form.querySelector("input[name=" + name + "]:checked");
    return input ? input.value : "";
  }

  var pay = window.PortalCardPayment;

  // Which parts of the form apply: the card or the bank section, the new-card fields.
  function refresh(form) {
    var method = checked(form, "method") || "card";
    form.querySelectorAll("[data-method-section]").forEach(function (section) {
      section.hidden = section.dataset.methodSection !== method;
    });
    var newCard = form.querySelector("[data-new-card]");
    if (newCard) { newCard.hidden = checked(form, "payment_method") !== "new"; }
  }

  function setup(form) {
    var button = form.querySelector("[data-pay-button]");
    var busy = pay.busyButton(button);
    var mount = form.querySelector("[data-card-element]");
    var element = mount && window.Stripe ? pay.cardElement(form, mount) : null;
    var clientSecret = null, returnUrl = null;
    form.addEventListener("change", function () { refresh(form); });
    refresh(form);

    // Asked for once: a retry after a decline confirms the same PaymentIntent, whose amount
    // is then fixed (and held on the invoice), so the amount field is locked.
    function intent() {
      if (clientSecret) { return Promise.resolve(clientSecret); }
      // getAttribute: `form.action` would be the hidden input named "action".
      return fetch(form.getAttribute("action") || window.location.href, {
        method: "POST",
        body: new FormData(form),
        headers: {"Accept": "application/json"},
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().catch(function () {
          return {errors: {__all__: [{message: "Something went wrong (" + response.status + "). Please try again."}]}};
        });
      }).then(function (data) {
        if (pay.settledAnswer(form, data)) { return null; }
        clientSecret = data.client_secret;
        returnUrl = data.return_url;
        var amount = form.querySelector("[name=amount]");
        amount.readOnly = true;
        amount.setAttribute("aria-readonly", "true");
        return clientSecret;
      });
    }

    form.addEventListener("submit", function (event) {
      if (button.disabled) { event.preventDefault(); return; }
      var newCard = checked(form, "method") !== "ach" && checked(form, "payment_method") === "new";
      if (!newCard || !element) { busy(true); return; }  // a plain POST: saved card or bank
      event.preventDefault();
      pay.showError(form, "");
      busy(true);
      intent().then(function (secret) {
        if (!secret) { busy(false); return null; }
        var save = form.querySelector("[name=save_card]");
        return pay.confirm(form, element, secret, save, returnUrl, busy);
      }).catch(pay.networkError(form, busy));
    });
  }

  document.querySelectorAll("form[data-invoice-pay]").forEach(setup);
})();
