"""Password reset, limited: an address asking too often is told to wait, and one e-mail
address gets at most a few links an hour whoever asks (the answer looks the same, so the
limit tells nobody whether the address has an account)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import render

from portal.forms import PortalPasswordResetForm
from portal.ratelimit import RateLimit, client_address

# Requests from one address: enough for a person who mistyped, not for a script.
RESET_BY_ADDRESS = RateLimit("password-reset-address", limit=5, window=15 * 60)
# Links sent to one e-mail address: a flood of reset e-mails is harassment of its owner.
RESET_BY_EMAIL = RateLimit("password-reset-email", limit=3, window=60 * 60)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PortalPasswordResetForm

    def post(self, request, *args, **kwargs):
        if RESET_BY_ADDRESS.hit(client_address(request)):
            return render(
                request,
                "registration/password_reset_limited.html",
                {"minutes": RESET_BY_ADDRESS.window // 60},
                status=429,
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().casefold()
        if RESET_BY_EMAIL.hit(email):
            # The same page as when a link went out: nothing is sent.
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
