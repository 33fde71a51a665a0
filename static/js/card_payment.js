// What the card forms share (pay.js: staff "New card" and the payment-link page; invoice_pay.js:
// the invoice payer's form): messages on the form, Stripe.js's Card Element and the
// confirmation of a PaymentIntent with it. Card details go from the page to Stripe only.
window.PortalCardPayment = (function () {
  "use strict";

  function showError(form, message) {
    var box = form.querySelector("[data-pay-error]");
    box.textContent = message;
    box.hidden = !message;
  }

  // Django form errors as JSON ({field: [{message}]}): each next to its field, the rest on top.
  function showFieldErrors(form, errors) {
    form.querySelectorAll(".js-field-error").forEach(function (el) { el.remove(); });
    var general = [];
    Object.keys(errors).forEach(function (name) {
      var messages = errors[name].map(function (e) { return e.message; });
      var input = form.querySelector("[name=" + name + "]");
      var field = input && input.type !== "hidden" ? input.closest(".field") : null;
      if (!field) { general = general.concat(messages); return; }
      var list = document.createElement("ul");
      list.className = "errorlist js-field-error";
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

  // Stripe.js on the form's account (Connect: data-stripe-account) and a mounted Card Element.
  function cardElement(form, mount) {
    var options = form.dataset.stripeAccount ? {stripeAccount: form.dataset.stripeAccount} : {};
    var stripe = window.Stripe(form.dataset.publishableKey, options);
    var card = stripe.elements().create("card");
    card.mount(mount);
    return {stripe: stripe, card: card};
  }

  // busy(true) disables the pay button and says so; busy(false) gives it back.
  function busyButton(button) {
    var label = button.textContent;
    return function (on) {
      button.disabled = on;
      button.textContent = on ? "Processing…" : label;
    };
  }

  // Confirm the intent with the card (saving it for later when `save` is ticked), then go to
  // the return page; a decline leaves the form as it is, to try again.
  function confirm(form, element, secret, save, returnUrl, busy) {
    var data = {
      payment_method: {
        card: element.card,
        billing_details: {name: form.dataset.name || "", email: form.dataset.email || ""}
      }
    };
    if (save && save.checked) { data.setup_future_usage = "off_session"; }
    return element.stripe.confirmCardPayment(secret, data).then(function (result) {
      if (result.error) {
        showError(form, result.error.message + " You can try again, with another card if needed.");
        busy(false);
        return;
      }
      window.location.assign(returnUrl);
    });
  }

  function networkError(form, busy) {
    return function () {
      showError(form, "The payment could not be sent. Check your connection and try again.");
      busy(false);
    };
  }

  // The server's answer to "give me the intent" that needs no card confirmation: true when it
  // was refused (errors shown; after a refusal for good the form takes a new attempt token;
  // a repeat of a payment made moments ago shows the "again" box) or the form was sent
  // before and its payment is done (its result page is shown).
  function settledAnswer(form, data) {
    if (data.attempt) { form.querySelector("[name=attempt]").value = data.attempt; }
    if (data.errors) {
      var repeat = form.querySelector("[data-repeat]");
      if (data.errors.repeat && repeat) { repeat.hidden = false; }
      showFieldErrors(form, data.errors);
      return true;
    }
    if (data.done) { window.location.assign(data.return_url); return true; }
    return false;
  }

  return {showError: showError, showFieldErrors: showFieldErrors, cardElement: cardElement,
          busyButton: busyButton, confirm: confirm, networkError: networkError,
          settledAnswer: settledAnswer};
})();
