from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("solidarity.public.urls")),
    path("", include("solidarity.campaigns.public_urls")),
]
