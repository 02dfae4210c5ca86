from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from import_export.admin import ExportMixin

from security.models import AuditEventKind
from security.services import audit_record

from . import services
from .models import Organisation, OrgKind, Role, RosterConfirmation, Teacher, TeacherEvent, User


class IssuedPasswordChangeForm(AdminPasswordChangeForm):
    """A password set for someone in the admin is an issued one: its owner must change it at the next login."""

    def save(self, commit=True):
        self.user.must_change_password = True
        user = super().save(commit)
        audit_record(event=AuditEventKind.PASSWORD_ISSUED, obj=user, details={"via": "admin"})
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    change_password_form = IssuedPasswordChangeForm
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("cpd", {"fields": ("name", "must_change_password")}))
    list_display = ("username", "name", "is_active", "is_superuser", "must_change_password")

    def save_model(self, request, obj, form, change):
        # A password chosen in the admin is an issued one: its owner changes it at first login.
        if not change:
            obj.must_change_password = True
        super().save_model(request, obj, form, change)

    search_fields = ("username", "name")

    # Only a superuser hands out superuser rights or touches a superuser's account.
    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, "is_superuser", "is_staff", "groups", "user_permissions")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A school moved here to another district takes its statistics and declarations along, as through
        # the organisation pages (`services.organisation_update`); the admin's view runs in one transaction.
        if change and obj.kind == OrgKind.SCHOOL and "parent" in form.changed_data:
            services.school_moved(school=obj)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "organisation")
    list_filter = ("kind",)
    autocomplete_fields = ("user", "organisation")


@admin.register(Teacher)
class TeacherAdmin(ExportMixin, admin.ModelAdmin):
    """Read-mostly: record changes go through the roster pages so that history is written."""

    list_display = ("cpd_number", "name", "masked_id_number", "school", "status")
    list_filter = ("status", "stage")
    # No search by ID number: it would put the number in the URL (and the access log).
    search_fields = ("name", "cpd_number")
    # Shown masked like everywhere else (SPEC §2); the export still carries the full number.
    exclude = ("id_number",)
    readonly_fields = [f.name for f in Teacher._meta.fields if f.name != "id_number"] + ["masked_id_number"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TeacherEvent)
class TeacherEventAdmin(admin.ModelAdmin):
    list_display = ("teacher", "kind", "effective_date", "from_school", "to_school", "actor")
    list_filter = ("kind",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(RosterConfirmation)
