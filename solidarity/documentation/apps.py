from django.apps import AppConfig


class DocumentationConfig(AppConfig):
    name = "solidarity.documentation"
    label = "documentation"
    verbose_name = "Documentation"
