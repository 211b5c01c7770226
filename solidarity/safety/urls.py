"""Back-office pages for keys and sealed values, under /admin/safety/."""

from django.urls import path

from . import views

app_name = "safety"

urlpatterns = [
    path("key/", views.key_page, name="key"),
    path("key/rotate/", views.rotate_key, name="rotate_key"),
    path("unlock/", views.unlock, name="unlock"),
    path("lock/", views.lock, name="lock"),
    path(
        "sealed/<str:app_label>/<str:model_name>/<int:pk>/<str:field>/",
        views.sealed_value,
        name="sealed",
    ),
]
