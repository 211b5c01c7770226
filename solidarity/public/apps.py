from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "solidarity.public"
    label = "public"
    verbose_name = "Public site"
