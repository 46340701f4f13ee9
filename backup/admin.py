from django.contrib import admin

from backup.models import Erasure


@admin.register(Erasure)
class ErasureAdmin(admin.ModelAdmin):
    list_display = ("created_at", "subject", "subject_digest", "erased_by", "reassigned_to", "summary")
    list_filter = ("subject",)
    search_fields = ("subject_digest",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
