from __future__ import annotations

from django.contrib import admin

from portal.models import Contact, Membership, OrgUnit, Role, Workspace


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "notify_admins_of_payments", "created_at"]
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
