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

  function showError(form, message) {
    var box = form.querySelector("[data-pay-error]");
    box.textContent = message;
    box.hidden = !message;
  }

  function showFieldErrors(form, errors) {
    form.querySelectorAll(".inv-js-error").forEach(function (el) { el.remove(); });
    var general = [];
    Object.keys(errors).forEach(function (name) {
      var messages = errors[name].map(function (e) { return e.message; });
      var input = form.querySelector("[name=" + name + "]");
      var field = input && input.type !== "hidden" ? input.closest(".field") : null;
      if (!field) { general = general.concat(messages); return; }
      var list = document.createElement("ul");
      list.className = "errorlist inv-js-error";
      messages.forEach(function (m) {
        var li = document.createElement("li");
        li.textContent = m;
        list.appendChild(li);
      });
      input.setAttribute("aria-invalid", "true");
      field.appendChild(list);
    });
    showError(form, general.join(" ") || "Please correct the fields marked below.");
  }

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
    var label = button.textContent;
    var mount = form.querySelector("[data-card-element]");
    var stripe = null, card = null, clientSecret = null, returnUrl = null;
    if (mount && window.Stripe) {
      var options = form.dataset.stripeAccount ? {stripeAccount: form.dataset.stripeAccount} : {};
      stripe = window.Stripe(form.dataset.publishableKey, options);
      card = stripe.elements().create("card");
      card.mount(mount);
    }
    form.addEventListener("change", function () { refresh(form); });
    refresh(form);

    function busy(on) {
      button.disabled = on;
      button.textContent = on ? "Processing…" : label;
    }

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
        if (data.errors) { showFieldErrors(form, data.errors); return null; }
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
      if (!newCard || !card) { busy(true); return; }  // a plain POST: saved card or bank
      event.preventDefault();
      showError(form, "");
      busy(true);
      intent().then(function (secret) {
        if (!secret) { busy(false); return null; }
        var save = form.querySelector("[name=save_card]");
        var data = {
          payment_method: {
            card: card,
            billing_details: {name: form.dataset.name || "", email: form.dataset.email || ""}
          }
        };
        if (save && save.checked) { data.setup_future_usage = "off_session"; }
        return stripe.confirmCardPayment(secret, data).then(function (result) {
          if (result.error) {
            showError(form, result.error.message + " You can try again, with another card if needed.");
            busy(false);
            return;
          }
          window.location.assign(returnUrl);
        });
      }).catch(function () {
        showError(form, "The payment could not be sent. Check your connection and try again.");
        busy(false);
      });
    });
  }

  document.querySelectorAll("form[data-invoice-pay]").forEach(setup);
})();
