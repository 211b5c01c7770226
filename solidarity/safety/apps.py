from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "solidarity.safety"
    label = "safety"
    verbose_name = "Safety: roles and keys"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the password-change hook)
