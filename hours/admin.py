from django.contrib import admin

from .models import Declaration, DeclarationEvent, LedgerEntry, Year


@admin.register(Year)
class YearAdmin(admin.ModelAdmin):
    list_display = ("year", "declaration_deadline", "school_review_deadline", "district_review_deadline", "locked_at")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger is append-only; corrections are made from the teacher's hours page."""

    list_display = ("teacher", "year", "category", "hours", "source", "title", "created_at")
    list_filter = ("year", "category", "source")
    search_fields = ("teacher__name", "teacher__cpd_number", "title")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = DeclarationEvent
    extra = 0
    can_delete = False
    readonly_fields = ("action", "from_state", "to_state", "actor", "actor_role", "reason", "created_at")


@admin.register(Declaration)
class DeclarationAdmin(admin.ModelAdmin):
    """Read-only: states change only through the review service."""

    list_display = ("title", "teacher", "year", "state", "hours")
    list_filter = ("state", "year", "category")
    inlines = [EventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
