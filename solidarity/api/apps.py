from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "solidarity.api"
    label = "api"
    verbose_name = "API and data exchange"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI description of our tokens)
