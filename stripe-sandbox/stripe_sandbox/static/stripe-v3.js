/*
 * The Stripe sandbox's fake Stripe.js (served at <sandbox>/js.stripe.com/v3/).
 *
 * Based on localstripe's fake Stripe.js (localstripe-v3.js), whose licence follows; the base-URL
 * detection and the 3-D Secure modal come from it, the rest is new.
 *
 * Copyright 2017 Adrien Vergé
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 *
 * You should have received a copy of the GNU General Public License
 * along with this program.  If not, see <http://www.gnu.org/licenses/>.
 *
 * Supported (as in real Stripe.js, documented by stripe-sandbox/tests/test_stripe_js.py):
 *   Stripe(publishableKey, {stripeAccount})
 *   stripe.elements() -> elements.create('card', {hidePostalCode, value: {postalCode}, disabled})
 *     element.mount(selectorOrNode), unmount(), destroy(), on/off/once(event, handler),
 *     focus(), blur(), clear(), update(options); events: ready, change, focus, blur
 *   stripe.createPaymentMethod({type: 'card', card: element, billing_details, metadata})
 *     (and the legacy createPaymentMethod('card', element, {billing_details}))
 *   stripe.confirmCardPayment(clientSecret, {payment_method: {card, billing_details} | 'pm_...',
 *     setup_future_usage, receipt_email, shipping, return_url}, {handleActions})
 *   stripe.confirmCardSetup(clientSecret, {payment_method: {card, billing_details} | 'pm_...'})
 *   stripe.handleCardAction(clientSecret), stripe.handleNextAction({clientSecret})
 *   stripe.retrievePaymentIntent(clientSecret), stripe.retrieveSetupIntent(clientSecret)
 *   stripe.createToken(element)
 * Inputs are plain <input>s inside the mount node (no iframe), labelled "Card number",
 * "Expiration date", "CVC" and "ZIP". Cards requiring 3-D Secure open an in-page dialog with
 * "Complete authentication" and "Fail authentication" buttons.
 */
(function () {
  'use strict';

  // The URL base from which this script is pulled (localstripe's detection).
  const BASE_API = (function () {
    const src = document.currentScript.src;
    if (src.match(/\/js\.stripe\.com\/v3\/?$/)) {
      return src.replace(/\/js\.stripe\.com\/v3\/?$/, '');
    }
    return src.match(/https?:\/\/[^\/]*/)[0];
  })();

  class IntegrationError extends Error {
    constructor(message) {
      super(message);
      this.name = 'IntegrationError';
    }
  }

  // --- card helpers ---------------------------------------------------------------------
  const MESSAGES = {
    incomplete_number: 'Your card number is incomplete.',
    invalid_number: 'Your card number is invalid.',
    incomplete_expiry: "Your card's expiration date is incomplete.",
    invalid_expiry_month: "Your card's expiration date is invalid.",
    invalid_expiry_month_past: "Your card's expiration date is in the past.",
    invalid_expiry_year_past: "Your card's expiration year is in the past.",
    invalid_expiry_year: "Your card's expiration year is invalid.",
    incomplete_cvc: "Your card's security code is incomplete.",
    incomplete_zip: 'Your postal code is incomplete.',
  };

  function validationError(code) {
    return {type: 'validation_error', code, message: MESSAGES[code]};
  }

  function digitsOf(value) {
    return String(value || '').replace(/\D/g, '');
  }

  function luhn(digits) {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
    }
    return digits.length > 0 && sum % 10 === 0;
  }

  function brandOf(digits) {
    if (/^3[47]/.test(digits)) return 'amex';
    if (/^35/.test(digits)) return 'jcb';
    if (/^3(0|6|8|9)/.test(digits)) return 'diners';
    if (/^(6011|64[4-9]|65|622)/.test(digits)) return 'discover';
    if (/^62/.test(digits)) return 'unionpay';
    if (/^4/.test(digits)) return 'visa';
    if (/^(5[1-5]|2(2[2-9]|[3-6]|7[01]|720))/.test(digits)) return 'mastercard';
    return 'unknown';
  }

  const LENGTHS = {amex: [15], diners: [14, 16], visa: [13, 16, 19], unionpay: [16, 17, 18, 19]};

  function lengthsOf(brand) {
    return LENGTHS[brand] || [16];
  }

  function cvcLengthOf(brand) {
    return brand === 'amex' ? 4 : 3;
  }

  function formatNumber(digits, brand) {
    const groups = brand === 'amex' || (brand === 'diners' && digits.length <= 14)
      ? [4, 6, 5] : [4, 4, 4, 4, 3];
    const parts = [];
    let at = 0;
    for (const size of groups) {
      if (at >= digits.length) break;
      parts.push(digits.slice(at, at + size));
      at += size;
    }
    return parts.join(' ');
  }

  function formatExpiry(digits) {
    if (/^[2-9]$/.test(digits)) return '0' + digits;  // "4" means April, like Stripe
    if (digits.length <= 2) return digits;
    return digits.slice(0, 2) + ' / ' + digits.slice(2, 4);
  }

  // --- the 3-D Secure challenge (after localstripe's openModal) ---------------------------
  function openModal(text, confirmText, cancelText) {
    return new Promise(resolve => {
      const overlay = document.createElement('div'),
            box = document.createElement('div'),
            title = document.createElement('h2'),
            p = document.createElement('p'),
            confirm = document.createElement('button'),
            cancel = document.createElement('button');
      overlay.setAttribute('data-sandbox-stripe', '3ds-challenge');
      box.setAttribute('role', 'dialog');
      box.setAttribute('aria-modal', 'true');
      box.setAttribute('aria-label', '3D Secure authentication');
      title.textContent = '3D Secure 2 Test Page';
      p.innerText = text;
      confirm.type = cancel.type = 'button';
      confirm.textContent = confirmText;
      cancel.textContent = cancelText;
      box.append(title, p, confirm, document.createTextNode(' '), cancel);
      overlay.appendChild(box);
      Object.assign(overlay.style, {
        position: 'fixed', inset: '0', background: 'rgba(0,0,0,.4)', zIndex: '2147483647',
        display: 'flex', alignItems: 'center', justifyContent: 'center',
      });
      Object.assign(box.style, {
        width: '340px', padding: '16px 20px', border: '3px solid #ccc', background: '#fff',
        textAlign: 'center', fontFamily: 'sans-serif', color: '#222',
      });
      document.body.appendChild(overlay);
      const done = result => {
        overlay.remove();
        resolve(result);
      };
      confirm.addEventListener('click', () => done(true));
      cancel.addEventListener('click', () => done(false));
      confirm.focus();
    });
  }

  // --- the Card Element ---------------------------------------------------------------
  let elementCount = 0;

  class CardElement {
    constructor(group, options) {
      this._group = group;
      this._options = Object.assign({}, options || {});
      this._listeners = {};
      this._node = null;
      this._root = null;
      this._inputs = null;
      this._touched = {};
      this._destroyed = false;
      this._lastChange = null;
      this._uid = 'sandbox-card-' + (++elementCount);
    }

    // Events
    on(event, handler) {
      (this._listeners[event] = this._listeners[event] || []).push(handler);
      if (event === 'ready' && this._root) setTimeout(() => handler({elementType: 'card'}), 0);
      return this;
    }

    addEventListener(event, handler) {
      return this.on(event, handler);
    }

    off(event, handler) {
      if (!handler) delete this._listeners[event];
      else this._listeners[event] = (this._listeners[event] || []).filter(h => h !== handler);
      return this;
    }

    removeEventListener(event, handler) {
      return this.off(event, handler);
    }

    once(event, handler) {
      const wrapper = e => {
        this.off(event, wrapper);
        handler(e);
      };
      return this.on(event, wrapper);
    }

    _emit(event, payload) {
      (this._listeners[event] || []).slice().forEach(handler => {
        try {
          handler(payload);
        } catch (err) {
          setTimeout(() => { throw err; }, 0);
        }
      });
    }

    // Mounting
    mount(target) {
      if (this._destroyed) {
        throw new IntegrationError(
          'This Element has already been destroyed. Please create a new one.');
      }
      const node = typeof target === 'string' ? document.querySelector(target) : target;
      if (!(node instanceof window.Element)) {
        throw new IntegrationError(
          'The selector you specified (' + target + ') applies to no DOM elements that are ' +
          'currently on the page.\nMake sure the element exists on the page before calling ' +
          'mount().');
      }
      if (this._root) {
        if (this._node === node) return;
        throw new IntegrationError('This Element is already mounted. Use `unmount()` to ' +
                                   'unmount the Element before re-mounting.');
      }
      this._node = node;
      this._render();
      node.classList.add('StripeElement');
      this._updateClasses();
      setTimeout(() => this._emit('ready', {elementType: 'card'}), 0);
    }

    _render() {
      const root = document.createElement('div');
      root.setAttribute('data-sandbox-stripe', 'card-element');
      root.style.display = 'flex';
      root.style.flexWrap = 'wrap';
      root.style.gap = '6px';
      const fields = [
        ['number', 'Card number', '1234 1234 1234 1234', 'cc-number', '19em'],
        ['expiry', 'Expiration date', 'MM / YY', 'cc-exp', '6em'],
        ['cvc', 'CVC', 'CVC', 'cc-csc', '4em'],
        ['postal', 'ZIP', 'ZIP', 'postal-code', '6em'],
      ];
      this._inputs = {};
      for (const [field, label, placeholder, autocomplete, width] of fields) {
        const wrap = document.createElement('span');
        const lab = document.createElement('label');
        const input = document.createElement('input');
        input.id = this._uid + '-' + field;
        input.type = 'text';
        input.placeholder = placeholder;
        input.autocomplete = autocomplete;
        input.inputMode = field === 'postal' ? 'text' : 'numeric';
        input.spellcheck = false;
        input.style.width = width;
        // No name: the card data never goes to the page's own form submission.
        lab.htmlFor = input.id;
        lab.textContent = label;
        Object.assign(lab.style, {
          position: 'absolute', width: '1px', height: '1px', overflow: 'hidden',
          clip: 'rect(0 0 0 0)', whiteSpace: 'nowrap',
        });
        wrap.append(lab, input);
        if (field === 'postal' && this._options.hidePostalCode) wrap.style.display = 'none';
        root.appendChild(wrap);
        this._inputs[field] = input;
        input.addEventListener('input', () => this._onInput(field));
        input.addEventListener('focus', () => {
          this._focused = field;
          this._updateClasses();
          this._emit('focus', {elementType: 'card'});
        });
        input.addEventListener('blur', () => {
          this._focused = null;
          if (input.value) this._touched[field] = true;
          this._updateClasses();
          this._emit('blur', {elementType: 'card'});
          this._fireChange(true);
        });
      }
      const value = this._options.value || {};
      if (value.postalCode) this._inputs.postal.value = value.postalCode;
      this._setDisabled(!!this._options.disabled);
      this._root = root;
      this._node.appendChild(root);
    }

    unmount() {
      if (this._root) this._root.remove();
      if (this._node) {
        this._node.classList.remove('StripeElement', 'StripeElement--empty',
                                    'StripeElement--complete', 'StripeElement--invalid',
                                    'StripeElement--focus');
      }
      this._root = null;
      this._node = null;
      this._inputs = null;
    }

    destroy() {
      this.unmount();
      this._destroyed = true;
      if (this._group._card === this) this._group._card = null;
    }

    focus() {
      if (this._inputs) this._inputs.number.focus();
    }

    blur() {
      if (this._inputs && document.activeElement &&
          Object.values(this._inputs).includes(document.activeElement)) {
        document.activeElement.blur();
      }
    }

    clear() {
      if (!this._inputs) return;
      Object.values(this._inputs).forEach(input => { input.value = ''; });
      this._touched = {};
      this._fireChange(true);
    }

    update(options) {
      Object.assign(this._options, options || {});
      if (!this._inputs) return;
      this._inputs.postal.parentElement.style.display =
        this._options.hidePostalCode ? 'none' : '';
      if (options && options.value && options.value.postalCode !== undefined) {
        this._inputs.postal.value = options.value.postalCode;
      }
      if (options && 'disabled' in options) this._setDisabled(!!options.disabled);
    }

    _setDisabled(disabled) {
      Object.values(this._inputs).forEach(input => { input.disabled = disabled; });
    }

    // Typing
    _onInput(field) {
      const input = this._inputs[field];
      if (field === 'number') {
        const digits0 = digitsOf(input.value);
        const brand = brandOf(digits0);
        const max = Math.max(...lengthsOf(brand));
        const digits = digits0.slice(0, max);
        input.value = formatNumber(digits, brand);
        // Move on once a usual length is complete (not at 14 digits: Diners has 14 and 16).
        if (this._fieldComplete('number') && (digits.length >= 16 || brand === 'amex')) {
          this._advance('expiry');
        }
      } else if (field === 'expiry') {
        input.value = formatExpiry(digitsOf(input.value).slice(0, 4));
        if (digitsOf(input.value).length === 4 && !this._fieldError('expiry', false)) {
          this._advance('cvc');
        }
      } else if (field === 'cvc') {
        const max = this.brand === 'unknown' ? 4 : cvcLengthOf(this.brand);
        input.value = digitsOf(input.value).slice(0, max);
        if (input.value.length === max && !this._options.hidePostalCode) this._advance('postal');
      } else if (field === 'postal') {
        input.value = input.value.replace(/[^A-Za-z0-9 -]/g, '').slice(0, 10);
      }
      this._fireChange(false);
    }

    _advance(field) {
      if (document.activeElement !== this._inputs[field]) this._inputs[field].focus();
    }

    get brand() {
      return this._inputs ? brandOf(digitsOf(this._inputs.number.value)) : 'unknown';
    }

    _values() {
      const i = this._inputs;
      const exp = digitsOf(i.expiry.value);
      return {
        number: digitsOf(i.number.value),
        exp_month: exp.slice(0, 2),
        exp_year: exp.slice(2, 4),
        cvc: digitsOf(i.cvc.value),
        postal_code: i.postal.value.trim(),
      };
    }

    _fieldComplete(field) {
      return this._fieldError(field, true) === null;
    }

    // The field's error; ``final``: also report incomplete values (blurred or submitted).
    _fieldError(field, final) {
      const v = this._values();
      if (field === 'number') {
        const brand = brandOf(v.number);
        const lengths = lengthsOf(brand);
        if (lengths.includes(v.number.length) && luhn(v.number)) return null;
        if (v.number.length >= Math.min(16, Math.max(...lengths))) {
          return validationError('invalid_number');
        }
        return final ? validationError('incomplete_number') : null;
      }
      if (field === 'expiry') {
        const exp = v.exp_month + v.exp_year;
        if (exp.length >= 2) {
          const month = Number(v.exp_month);
          if (month < 1 || month > 12) return validationError('invalid_expiry_month');
        }
        if (exp.length < 4) return final ? validationError('incomplete_expiry') : null;
        const now = new Date();
        const year = 2000 + Number(v.exp_year);
        const month = Number(v.exp_month);
        if (year < now.getFullYear()) return validationError('invalid_expiry_year_past');
        if (year === now.getFullYear() && month < now.getMonth() + 1) {
          return validationError('invalid_expiry_month_past');
        }
        if (year > now.getFullYear() + 50) return validationError('invalid_expiry_year');
        return null;
      }
      if (field === 'cvc') {
        const brand = brandOf(v.number);
        const needed = brand === 'unknown' ? 3 : cvcLengthOf(brand);
        if (v.cvc.length >= needed) return null;
        return final ? validationError('incomplete_cvc') : null;
      }
      if (field === 'postal') {
        if (this._options.hidePostalCode) return null;
        const complete = /^\d+$/.test(v.postal_code)
          ? v.postal_code.length >= 5 : v.postal_code.length >= 3;
        if (complete) return null;
        return final ? validationError('incomplete_zip') : null;
      }
      return null;
    }

    // ``all``: every field counts as touched (a submission).
    _state(all) {
      const fields = ['number', 'expiry', 'cvc', 'postal'];
      let error;
      for (const field of fields) {
        const e = this._fieldError(field, all || !!this._touched[field]);
        if (e) {
          error = e;
          break;
        }
      }
      const v = this._values();
      const empty = !v.number && !v.exp_month && !v.cvc && !v.postal_code;
      const complete = fields.every(field => this._fieldComplete(field));
      return {error, empty, complete, brand: brandOf(v.number), postalCode: v.postal_code};
    }

    _fireChange(onBlur) {
      const state = this._state(false);
      const event = {
        elementType: 'card',
        empty: state.empty,
        complete: state.complete,
        brand: state.brand,
        value: {postalCode: state.postalCode},
        error: state.error,
      };
      const key = JSON.stringify(event);
      this._invalid = !!state.error;
      this._updateClasses();
      if (onBlur && key === this._lastChange) return;
      this._lastChange = key;
      this._emit('change', event);
    }

    _updateClasses() {
      if (!this._node || !this._inputs) return;
      const state = this._state(false);
      const cl = this._node.classList;
      cl.toggle('StripeElement--empty', state.empty);
      cl.toggle('StripeElement--complete', state.complete);
      cl.toggle('StripeElement--invalid', !!state.error);
      cl.toggle('StripeElement--focus', !!this._focused);
    }

    // For createPaymentMethod/confirm*: the card, or a validation error.
    _cardData() {
      if (!this._inputs) {
        throw new IntegrationError('We could not retrieve data from the specified Element. ' +
                                   'Please make sure the Element you are attempting to use ' +
                                   'is still mounted.');
      }
      const state = this._state(true);
      if (state.error) return {error: state.error};
      const v = this._values();
      return {
        card: {number: v.number, exp_month: v.exp_month, exp_year: '20' + v.exp_year,
               cvc: v.cvc},
        postal_code: this._options.hidePostalCode ? undefined : v.postal_code,
      };
    }
  }

  class Elements {
    constructor(stripe, options) {
      this._stripe = stripe;
      this._options = options || {};
      this._card = null;
    }

    create(type, options) {
      if (type !== 'card') {
        throw new IntegrationError('The Stripe sandbox only fakes the Card Element ' +
                                   '(elements.create("card")), not "' + type + '".');
      }
      if (this._card) {
        throw new IntegrationError('Can only create one Element of type card.');
      }
      this._card = new CardElement(this, options);
      return this._card;
    }

    getElement(type) {
      return type === 'card' ? this._card : null;
    }

    update() {}
  }

  // --- HTTP ------------------------------------------------------------------------------
  function encode(value, prefix, out) {
    if (value === undefined || value === null) return out;
    if (typeof value === 'object' && !Array.isArray(value)) {
      for (const k of Object.keys(value)) encode(value[k], prefix ? `${prefix}[${k}]` : k, out);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => encode(v, `${prefix}[${i}]`, out));
    } else {
      out.push(encodeURIComponent(prefix) + '=' + encodeURIComponent(String(value)));
    }
    return out;
  }

  function intentId(clientSecret, prefix, method) {
    const match = typeof clientSecret === 'string' &&
      clientSecret.match(new RegExp('^(' + prefix + '_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$'));
    if (!match) {
      throw new IntegrationError(`Invalid value for ${method} intent secret: value should be a ` +
                                 `client_secret string. You specified: ${clientSecret}.`);
    }
    return match[1];
  }

  class StripeSandbox {
    constructor(key, options) {
      if (typeof key !== 'string' || !key) {
        throw new IntegrationError('Please call Stripe() with your publishable key. You used ' +
                                   'an empty string.');
      }
      if (/^(sk|rk)_/.test(key)) {
        throw new IntegrationError('You should not use your secret key with Stripe.js. Please ' +
                                   'pass a publishable key instead.');
      }
      this._key = key;
      this._account = (options || {}).stripeAccount || null;
    }

    async _call(method, path, params) {
      const all = Object.assign({key: this._key}, params || {});
      if (this._account) all._stripe_account = this._account;
      const encoded = encode(all, '', []).join('&');
      let response;
      try {
        if (method === 'GET') {
          response = await fetch(`${BASE_API}${path}?${encoded}`, {method: 'GET'});
        } else {
          response = await fetch(`${BASE_API}${path}`, {
            method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'},
            body: encoded,
          });
        }
      } catch (err) {
        return {error: {type: 'api_connection_error',
                        message: 'An error occurred while reaching the Stripe sandbox: ' + err}};
      }
      const body = await response.json().catch(() => ({}));
      if (!response.ok || body.error) {
        return {error: body.error || {type: 'api_error',
                                      message: 'The Stripe sandbox answered ' + response.status}};
      }
      return {body};
    }

    elements(options) {
      return new Elements(this, options);
    }

    // A PaymentMethod from {card: element, billing_details, metadata}.
    async _paymentMethodFrom(data) {
      const element = data.card;
      if (!(element instanceof CardElement)) {
        throw new IntegrationError('Invalid value for payment_method.card: the Stripe sandbox ' +
                                   'takes a card Element (elements.create("card")).');
      }
      const card = element._cardData();
      if (card.error) return {error: card.error};
      const billing = JSON.parse(JSON.stringify(data.billing_details || {}));
      if (card.postal_code) {
        billing.address = billing.address || {};
        if (!billing.address.postal_code) billing.address.postal_code = card.postal_code;
      }
      const result = await this._call('POST', '/v1/payment_methods', {
        type: 'card',
        card: card.card,
        billing_details: billing,
        metadata: data.metadata,
        payment_user_agent: 'stripe.js/sandbox',
      });
      return result.error ? {error: result.error} : {paymentMethod: result.body};
    }

    async createPaymentMethod(typeOrData, element, extra) {
      let data = typeOrData;
      if (typeof typeOrData === 'string') {  // createPaymentMethod('card', element, {...})
        data = Object.assign({type: typeOrData, card: element}, extra || {});
      }
      if (!data || data.type !== 'card') {
        throw new IntegrationError('The Stripe sandbox only creates card PaymentMethods ' +
                                   '(type: "card").');
      }
      return this._paymentMethodFrom(data);
    }

    async _resolvePaymentMethod(paymentMethod) {
      if (paymentMethod === undefined || paymentMethod === null) return {};
      if (typeof paymentMethod === 'string') return {id: paymentMethod};
      if (typeof paymentMethod === 'object' && paymentMethod.card) {
        const result = await this._paymentMethodFrom(paymentMethod);
        return result.error ? {error: result.error} : {id: result.paymentMethod.id};
      }
      throw new IntegrationError('Invalid value for payment_method: pass a PaymentMethod id ' +
                                 'or {card: cardElement, billing_details}.');
    }

    // --- PaymentIntents ------------------------------------------------------------------
    async confirmCardPayment(clientSecret, data, options) {
      const id = intentId(clientSecret, 'pi', 'confirmCardPayment');
      data = data || {};
      const handleActions = !options || options.handleActions !== false;
      const pm = await this._resolvePaymentMethod(data.payment_method);
      if (pm.error) return {error: pm.error};
      if (pm.id === undefined) {
        // No new payment method: an intent already waiting for authentication is handled.
        const current = await this._call('GET', `/v1/payment_intents/${id}`,
                                         {client_secret: clientSecret});
        if (current.error) return {error: current.error};
        if (current.body.status === 'requires_action') {
          return this._finishPayment(current.body, clientSecret, handleActions);
        }
      }
      const params = {client_secret: clientSecret, payment_method: pm.id};
      for (const name of ['setup_future_usage', 'receipt_email', 'shipping', 'return_url',
                          'payment_method_options']) {
        if (data[name] !== undefined) params[name] = data[name];
      }
      const result = await this._call('POST', `/v1/payment_intents/${id}/confirm`, params);
      if (result.error) return {error: result.error};
      return this._finishPayment(result.body, clientSecret, handleActions);
    }

    async _finishPayment(intent, clientSecret, handleActions) {
      if (intent.status === 'requires_action' && handleActions) {
        const success = await openModal(
          'This is a test 3D Secure challenge. Complete or fail the authentication.',
          'Complete authentication', 'Fail authentication');
        const result = await this._call(
          'POST', `/v1/payment_intents/${intent.id}/_authenticate`,
          {client_secret: clientSecret, success: success ? 'true' : 'false'});
        if (result.error) return {error: result.error};
        intent = result.body;
      }
      if (intent.status === 'requires_payment_method' && intent.last_payment_error) {
        return {error: Object.assign({}, intent.last_payment_error, {payment_intent: intent})};
      }
      return {paymentIntent: intent};
    }

    async handleCardAction(clientSecret) {
      const id = intentId(clientSecret, 'pi', 'handleCardAction');
      const current = await this._call('GET', `/v1/payment_intents/${id}`,
                                       {client_secret: clientSecret});
      if (current.error) return {error: current.error};
      return this._finishPayment(current.body, clientSecret, true);
    }

    async handleNextAction(options) {
      const secret = (options || {}).clientSecret;
      if (typeof secret === 'string' && secret.startsWith('seti_')) {
        const id = intentId(secret, 'seti', 'handleNextAction');
        const current = await this._call('GET', `/v1/setup_intents/${id}`, {client_secret: secret});
        if (current.error) return {error: current.error};
        return this._finishSetup(current.body, secret, true);
      }
      return this.handleCardAction(secret);
    }

    async retrievePaymentIntent(clientSecret) {
      const id = intentId(clientSecret, 'pi', 'retrievePaymentIntent');
      const result = await this._call('GET', `/v1/payment_intents/${id}`,
                                      {client_secret: clientSecret});
      return result.error ? {error: result.error} : {paymentIntent: result.body};
    }

    // Deprecated names real Stripe.js still answers.
    async handleCardPayment(clientSecret, element, data) {
      const pm = element instanceof CardElement
        ? Object.assign({card: element}, (data || {}).payment_method_data || {}) : undefined;
      return this.confirmCardPayment(clientSecret, {payment_method: pm});
    }

    // --- SetupIntents --------------------------------------------------------------------
    async confirmCardSetup(clientSecret, data, options) {
      const id = intentId(clientSecret, 'seti', 'confirmCardSetup');
      data = data || {};
      const handleActions = !options || options.handleActions !== false;
      const pm = await this._resolvePaymentMethod(data.payment_method);
      if (pm.error) return {error: pm.error};
      const params = {client_secret: clientSecret, payment_method: pm.id};
      if (data.return_url) params.return_url = data.return_url;
      const result = await this._call('POST', `/v1/setup_intents/${id}/confirm`, params);
      if (result.error) return {error: result.error};
      return this._finishSetup(result.body, clientSecret, handleActions);
    }

    async _finishSetup(intent, clientSecret, handleActions) {
      if (intent.status === 'requires_action' && handleActions) {
        const success = await openModal(
          'This is a test 3D Secure challenge. Complete or fail the authentication.',
          'Complete authentication', 'Fail authentication');
        const result = await this._call(
          'POST', `/v1/setup_intents/${intent.id}/_authenticate`,
          {client_secret: clientSecret, success: success ? 'true' : 'false'});
        if (result.error) return {error: result.error};
        intent = result.body;
      }
      if (intent.status === 'requires_payment_method' && intent.last_setup_error) {
        return {error: Object.assign({}, intent.last_setup_error, {setup_intent: intent})};
      }
      return {setupIntent: intent};
    }

    async retrieveSetupIntent(clientSecret) {
      const id = intentId(clientSecret, 'seti', 'retrieveSetupIntent');
      const result = await this._call('GET', `/v1/setup_intents/${id}`,
                                      {client_secret: clientSecret});
      return result.error ? {error: result.error} : {setupIntent: result.body};
    }

    async handleCardSetup(clientSecret, element, data) {
      const pm = Object.assign({card: element}, (data || {}).payment_method_data || {});
      return this.confirmCardSetup(clientSecret, {payment_method: pm});
    }

    // --- Tokens (localstripe's createToken) ----------------------------------------------
    async createToken(element) {
      if (!(element instanceof CardElement)) {
        throw new IntegrationError('The Stripe sandbox creates tokens from a card Element only.');
      }
      const card = element._cardData();
      if (card.error) return {error: card.error};
      const result = await this._call('POST', '/v1/tokens',
                                      {card: card.card, payment_user_agent: 'stripe.js/sandbox'});
      return result.error ? {error: result.error} : {token: result.body};
    }
  }

  window.Stripe = function Stripe(key, options) {
    return new StripeSandbox(key, options);
  };
  window.Stripe.version = 3;
  window.Stripe.__sandbox = true;

  console.log('Stripe sandbox: fake Stripe.js (based on localstripe) loaded; API calls go to ' +
              BASE_API);
})();
