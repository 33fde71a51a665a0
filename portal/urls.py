from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from automation.views import public as automation_public
from billing.views import public as billing_public
from integrations.views import hooks, oauth
from integrations.views import settings as integrations_settings
from portal.views import (
    audit,
    contacts,
    dev_outbox,
    health,
    home,
    invitations,
    members,
    org_units,
    password,
    roles,
    two_factor,
)

auth_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The second step of logging in, for users with two-factor sign-in.
    path("two-factor/verify/", two_factor.two_factor_verify, name="two_factor_verify"),
    path("two-factor/", two_factor.two_factor_account, name="two_factor"),
    path("two-factor/set-up/", two_factor.two_factor_setup, name="two_factor_setup"),
    path("two-factor/recovery-codes/", two_factor.two_factor_codes, name="two_factor_codes"),
    path("two-factor/turn-off/", two_factor.two_factor_disable, name="two_factor_disable"),
    path(
        "password-reset/",
        password.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

workspace_patterns = [
    path("", home.workspace_home, name="workspace_home"),
    path("contacts/", contacts.contact_list, name="contact_list"),
    path("contacts/new/", contacts.contact_edit, name="contact_create"),
    # contacts/<uuid>/, the customer page, is invoices' (it shows every app's records).
    path("contacts/<uuid:contact_uuid>/edit/", contacts.contact_edit, name="contact_edit"),
    path("members/", members.member_list, name="member_list"),
    path("members/add/", members.member_add, name="member_add"),
    path("members/<uuid:membership_uuid>/", members.member_edit, name="member_edit"),
    path("members/<uuid:membership_uuid>/remove/", members.member_remove, name="member_remove"),
    path(
        "members/invitations/<uuid:invitation_uuid>/resend/",
        members.member_invitation_resend,
        name="member_invitation_resend",
    ),
    path(
        "members/invitations/<uuid:invitation_uuid>/revoke/",
        members.member_invitation_revoke,
        name="member_invitation_revoke",
    ),
    path("roles/", roles.role_list, name="role_list"),
    path("roles/new/", roles.role_edit, name="role_create"),
    path("roles/<uuid:role_uuid>/", roles.role_edit, name="role_edit"),
    path("org-units/", org_units.org_unit_list, name="org_unit_list"),
    path("org-units/new/", org_units.org_unit_edit, name="org_unit_create"),
    path("org-units/<uuid:unit_uuid>/", org_units.org_unit_edit, name="org_unit_edit"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("stripe/", include("integrations.urls")),
    # Settings -> Integrations (the General tab is billing's workspace_settings, settings/).
    path(
        "settings/integrations/",
        integrations_settings.integrations_settings,
        name="integrations_settings",
    ),
    path("workflows/", include("automation.urls_workflows")),
    path("", include("automation.urls_forms")),
    path("", include("invoices.urls")),
    path("", include("billing.urls")),
]

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz/", health.healthz, name="healthz"),
    path("accounts/", include(auth_patterns)),
    path("w/<slug:ws>/", include(workspace_patterns)),
    # The invitee's side: the e-mailed link, outside any workspace they are not in yet.
    path("invitations/<str:token>/", invitations.invitation_detail, name="invitation_detail"),
    path(
        "invitations/<str:token>/accept/",
        invitations.invitation_accept_view,
        name="invitation_accept",
    ),
    path(
        "invitations/<str:token>/decline/",
        invitations.invitation_decline_view,
        name="invitation_decline",
    ),
    path("f/<slug:slug>/", automation_public.public_form, name="public_form"),
    path("book/<slug:slug>/", automation_public.public_booking, name="public_booking"),
    path("pay/<str:token>/", billing_public.public_pay, name="public_pay"),
    path("pay/<str:token>/intent/", billing_public.public_pay_intent, name="public_pay_intent"),
    path("pay/<str:token>/return/", billing_public.public_pay_return, name="public_pay_return"),
    path("pay/<str:token>/done/", billing_public.public_pay_done, name="public_pay_done"),
    path("hooks/stripe/connect/", hooks.stripe_connect_webhook, name="stripe_connect_webhook"),
    path("hooks/stripe/<uuid:endpoint_uuid>/", hooks.stripe_webhook, name="stripe_webhook"),
    # Stripe Connect sends every workspace back here; `state` says which one.
    path("stripe/oauth/callback/", oauth.oauth_callback, name="stripe_oauth_callback"),
    path("admin/", admin.site.urls),
]

# Development only: the e-mails sent, read in the browser (portal/views/dev_outbox.py).
dev_patterns = [
    path("outbox/", dev_outbox.dev_outbox, name="dev_outbox"),
    path("outbox/<str:message_id>/", dev_outbox.dev_outbox_message, name="dev_outbox_message"),
    path("outbox/<str:message_id>/html/", dev_outbox.dev_outbox_html, name="dev_outbox_html"),
]
if settings.DEBUG:
    urlpatterns.append(path("dev/", include(dev_patterns)))
