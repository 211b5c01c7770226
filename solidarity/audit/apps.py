from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "solidarity.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from . import context, signals

        signals.connect()
        context.attribute_management_commands()
