from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "solidarity.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from . import bulk, context, signals

        signals.connect()
        bulk.install()
        context.attribute_management_commands()
