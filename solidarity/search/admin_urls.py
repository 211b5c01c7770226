"""The back office's search pages, mounted under /admin/find/ before the admin's own URLs."""

from django.contrib import admin
from django.urls import path

from . import views

app_name = "search_admin"

urlpatterns = [
    path("", admin.site.admin_view(views.admin_search), name="search"),
    path("merge/", admin.site.admin_view(views.merge_view), name="merge"),
    path("unmerge/<int:pk>/", admin.site.admin_view(views.unmerge_view), name="unmerge"),
]
