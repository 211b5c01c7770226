from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "solidarity.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        # checks: registers the check that computed change-list columns declare their reads.
        from . import bulk, checks, context, signals  # noqa: F401

        signals.connect()
        bulk.install()
        context.attribute_management_commands()
