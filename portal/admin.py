from __future__ import annotations

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEntry, Contact, Membership, OrgUnit, Role, Workspace

# django-otp's device pages show the secrets that make codes (the TOTP key, the recovery
# codes): none of them in the admin. An operator removes a lost device with
# `manage.py two_factor_reset`.
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "notify_admins_of_payments", "require_two_factor", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["path", "workspace"]
    list_filter = ["workspace"]
    search_fields = ["path", "name"]
    readonly_fields = ["path"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "builtin", "permissions"]
    list_filter = ["workspace", "builtin"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "org_unit", "created_at"]
    list_filter = ["workspace", "roles"]
    search_fields = ["user__email", "user__username", "workspace__name"]
    autocomplete_fields = ["user", "org_unit"]
    filter_horizontal = ["roles"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "stripe_customer_id", "workspace", "created_at"]
    list_filter = ["workspace"]
    search_fields = ["name", "email", "phone", "stripe_customer_id"]
    readonly_fields = ["uuid", "created_at", "updated_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read only: the trail is appended to by the services, never edited by hand."""

    list_display = ["created_at", "workspace_name", "actor_label", "address", "action", "summary"]
    list_filter = ["action", "workspace"]
    search_fields = ["actor_label", "summary", "workspace_name", "object_label"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
