"""Two-factor sign-in pages: the account page, set-up, recovery codes, turning it off, and the
code asked after the password (portal.two_factor does the work)."""

from __future__ import annotations

from urllib.parse import quote

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from django_otp.models import Device

from portal.access import PortalRequest, member_workspaces
from portal.permissions import workspace_permissions
from portal.ratelimit import RateLimit
from portal.two_factor import (
    enrolment_qr_svg,
    enrolment_start,
    recovery_codes_left,
    recovery_codes_regenerate,
    two_factor_check,
    two_factor_enable,
    two_factor_enabled,
    two_factor_required,
    two_factor_reset,
)
from portal.two_factor_forms import AppCodeForm, CodeForm, DisableForm

# Wrong codes per user, whichever page they are typed on: enough for a person who mistyped,
# far too few to guess one of a million. django-otp also slows each device down after each.
WRONG_CODES = RateLimit("two-factor-wrong-code", limit=5, window=15 * 60)
# The secret offered on the set-up page, until a code from the app confirms it.
ENROLMENT_KEY = "two_factor_enrolment"
WRONG_CODE = (
    "That code is not right, or it came too soon after a wrong one. Enter the newest code "
    "from the app, or a recovery code you have not used yet."
)


@login_required
@require_GET
def two_factor_account(request: PortalRequest) -> HttpResponse:
    enabled = two_factor_enabled(request.user)
    context = {
        "enabled": enabled,
        "codes_left": recovery_codes_left(request.user) if enabled else 0,
        "requiring": _requiring_workspaces(request),
    }
    return render(request, "portal/two_factor/account.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: PortalRequest) -> HttpResponse:
    """The secret as a QR code and as text; it is kept only once a code from the app matches."""
    after = _next(request)
    if two_factor_enabled(request.user):
        messages.info(request, "Two-factor sign-in is already on.")
        return redirect(after or "two_factor")
    enrolment = enrolment_start(request.user, request.session.get(ENROLMENT_KEY))
    request.session[ENROLMENT_KEY] = enrolment.key
    form = AppCodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound and form.is_valid():
        if _limited(request, form):
            status = 429
        elif result := two_factor_enable(request.user, enrolment.key, form.cleaned_data["code"]):
            device, codes = result
            del request.session[ENROLMENT_KEY]
            _verified(request, device)  # the code just given counts for this session
            messages.success(request, "Two-factor sign-in is on.")
            return _codes_page(request, codes, after)
        else:
            _wrong(request, form, "That code does not match: enter the newest code the app shows.")
    context = {
        "form": form,
        "next": after,
        "qr_svg": enrolment_qr_svg(enrolment),
        "secret": " ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4)),
        "required_by": _requiring_workspace(request),
    }
    return render(request, "portal/two_factor/setup.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_codes(request: PortalRequest) -> HttpResponse:
    """New recovery codes, for a current code: the old ones stop working."""
    if not two_factor_enabled(request.user):
        return redirect("two_factor")
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound and form.is_valid():
        if _limited(request, form):
            status = 429
        elif two_factor_check(request.user, form.cleaned_data["code"]):
            messages.success(request, "New recovery codes made; the old ones no longer work.")
            return _codes_page(request, recovery_codes_regenerate(request.user), None)
        else:
            _wrong(request, form, WRONG_CODE)
    context = {"form": form, "codes_left": recovery_codes_left(request.user)}
    return render(request, "portal/two_factor/regenerate.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_disable(request: PortalRequest) -> HttpResponse:
    """Off, for a current code and a ticked box."""
    if not two_factor_enabled(request.user):
        return redirect("two_factor")
    form = DisableForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound and form.is_valid():
        if _limited(request, form):
            status = 429
        elif two_factor_check(request.user, form.cleaned_data["code"]):
            two_factor_reset(request.user)
            messages.success(request, "Two-factor sign-in is off; your recovery codes are deleted.")
            return redirect("two_factor")
        else:
            _wrong(request, form, WRONG_CODE)
    context = {"form": form, "requiring": _requiring_workspaces(request)}
    return render(request, "portal/two_factor/disable.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: PortalRequest) -> HttpResponse:
    """The second step of logging in: until a code is given here, every other page of the
    portal sends the user back (portal.middleware.TwoFactorMiddleware)."""
    after = _next(request) or resolve_url(settings.LOGIN_REDIRECT_URL)
    if request.user.is_verified() or not two_factor_enabled(request.user):
        return redirect(after)
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound and form.is_valid():
        if _limited(request, form):
            status = 429
        elif device := two_factor_check(request.user, form.cleaned_data["code"]):
            _verified(request, device)
            return redirect(after)
        else:
            _wrong(request, form, WRONG_CODE)
    context = {"form": form, "next": _next(request)}
    return render(request, "registration/two_factor_verify.html", context, status=status)


def _codes_page(request: PortalRequest, codes: list[str], after: str | None) -> HttpResponse:
    """The recovery codes, shown this once (the answer to the POST that made them)."""
    text = "\n".join(
        [
            f"Agency Portal recovery codes for {request.user.get_username()}",
            "",
            *codes,
            "",
            "Each code works once, in place of a code from the app.",
        ]  # fmt: skip
    )
    context = {
        "codes": codes,
        "download_href": "data:text/plain;charset=utf-8," + quote(text + "\n"),
        "next": after,
    }
    response = render(request, "portal/two_factor/codes.html", context)
    response["Cache-Control"] = "no-store"  # not kept in the browser's cache or history
    return response


def _verified(request: PortalRequest, device: Device) -> None:
    django_otp.login(request, device)
    # More is allowed from now on: a new session key, as at log-in.
    request.session.cycle_key()


def _limited(request: PortalRequest, form) -> bool:
    if not WRONG_CODES.used_up(str(request.user.pk)):
        return False
    minutes = WRONG_CODES.window // 60
    form.add_error("code", f"Too many wrong codes: wait {minutes} minutes, then try again.")
    return True


def _wrong(request: PortalRequest, form, message: str) -> None:
    WRONG_CODES.hit(str(request.user.pk))
    form.add_error("code", message)


def _next(request: PortalRequest) -> str | None:
    """Where to go afterwards: a page of the portal only."""
    after = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        after, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return after if after and safe else None


def _requiring_workspaces(request: PortalRequest) -> list:
    """The user's workspaces that require two-factor sign-in of what the user may do there."""
    requiring = member_workspaces(request.user).filter(require_two_factor=True)
    return [
        ws for ws in requiring if two_factor_required(ws, workspace_permissions(request.user, ws))
    ]


def _requiring_workspace(request: PortalRequest):
    """The workspace that sent the user to set it up (`?workspace=`), if it requires it."""
    slug = request.GET.get("workspace") or request.POST.get("workspace")
    if not slug:
        return None
    return member_workspaces(request.user).filter(slug=slug, require_two_factor=True).first()
