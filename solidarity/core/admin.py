"""Back office for sections: the home organisation and the national sections of the
International, to which every record belongs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Section

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Section]
else:  # Django's admin classes are not subscriptable at run time.
    _ModelAdmin = admin.ModelAdmin

admin.site.site_header = _("Solidarity back office")
admin.site.site_title = _("Solidarity")
admin.site.index_title = _("Documentation and sections")


@admin.register(Section)
class SectionAdmin(_ModelAdmin):
    list_display = ("name_en", "name_ru", "slug", "kind", "country")
    list_filter = ("kind",)
    search_fields = ("name_en", "name_ru", "name_kk", "slug", "country")
    prepopulated_fields = {"slug": ("name_en",)}
    fieldsets = (
        (None, {"fields": ("name_en", "slug", "kind", "country")}),
        (_("Name in other languages"), {"fields": ("name_ru", "name_kk")}),
    )
