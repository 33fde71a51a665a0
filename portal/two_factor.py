"""Two-factor sign-in: an authenticator app (TOTP) and ten one-time recovery codes per user,
kept by django-otp.

Two-factor sign-in is on for a user who has a confirmed TOTP device; the recovery codes are a
static device made and removed with it. A session that gave a code is verified
(`request.user.is_verified()`, django-otp's OTPMiddleware); portal.middleware sends a user who
has two-factor sign-in but has not given a code in this session to the code page.
"""

from __future__ import annotations

import re
from base64 import b32encode
from dataclasses import dataclass

import django_otp
import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from portal import perms
from portal.models import Workspace

RECOVERY_CODE_COUNT = 10
# Who may be made to use it: whoever can move money or decide who can.
GUARDED_PERMISSIONS = frozenset({perms.BILLING_CHARGE, perms.STRIPE_ALL, perms.WORKSPACE_MANAGE})
_SPACING = re.compile(r"[\s-]+")


@dataclass(frozen=True)
class Enrolment:
    """A secret offered for set-up, before a code from the app confirms it."""

    key: str  # hex, as django-otp stores it
    secret: str  # base32, what a person types into the app
    uri: str  # otpauth://, what the QR code holds


def two_factor_enabled(user) -> bool:
    """Whether the user has confirmed an authenticator app (one query)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_required(workspace: Workspace, granted: frozenset[str]) -> bool:
    """Whether the workspace asks these permissions for two-factor sign-in."""
    return workspace.require_two_factor and bool(granted & GUARDED_PERMISSIONS)


def enrolment_start(user, key: str | None = None) -> Enrolment:
    """A new secret for `user` (or the one already offered, `key`); nothing is stored."""
    device = TOTPDevice(user=user, key=key or default_key())
    return Enrolment(
        key=device.key, secret=b32encode(device.bin_key).decode(), uri=device.config_url
    )


def enrolment_qr_svg(enrolment: Enrolment) -> str:
    """The QR code of the enrolment's URI as an SVG element, drawn here: the secret is never
    sent to an image service, and inline SVG needs nothing from the Content-Security-Policy."""
    image = qrcode.make(
        enrolment.uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2
    )
    return image.to_string(encoding="unicode")


def two_factor_enable(user, key: str, code: str) -> tuple[Device, list[str]] | None:
    """Turn two-factor sign-in on with the offered `key` if `code` is the app's current code:
    the confirmed app and new recovery codes, which are shown once. None for a wrong code."""
    device = TOTPDevice(user=user, key=key, name="Authenticator app", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    try:
        number = int(_compact(code))
    except ValueError:
        return None
    if not totp.verify(number, tolerance=device.tolerance):
        return None
    with transaction.atomic():
        two_factor_reset(user)  # a half-finished earlier set-up leaves nothing behind
        device.last_t = totp.t()  # the code that confirmed it cannot log in as well
        device.drift = totp.drift  # the phone's clock, a step off or not
        device.save()
        codes = recovery_codes_regenerate(user)
    return device, codes


def recovery_codes_regenerate(user) -> list[str]:
    """Ten new one-time recovery codes; the old ones stop working."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, defaults={"name": "Recovery codes", "confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def two_factor_check(user, code: str) -> Device | None:
    """The device that accepts `code`: six digits are the app's, anything else a recovery code
    (used up by this). Each wrong code counts towards django-otp's throttle of that device,
    which then refuses every code for a while, doubling with each failure."""
    code = _compact(code).lower()
    if not code:
        return None
    model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    for device in model.objects.devices_for_user(user, confirmed=True):
        verified = django_otp.verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


def two_factor_reset(user) -> int:
    """Remove every two-factor device of the user (the app and the recovery codes); how many.
    The user then logs in with the password alone until setting it up again."""
    removed = 0
    with transaction.atomic():
        for device in list(django_otp.devices_for_user(user, confirmed=None)):
            device.delete()
            removed += 1
    return removed


def _compact(code: str) -> str:
    """What was typed, without the spaces and dashes people add to read codes in groups."""
    return _SPACING.sub("", code or "")
