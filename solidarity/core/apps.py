from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "solidarity.core"
    label = "core"
    verbose_name = "Sections"
