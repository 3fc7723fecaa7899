from django.apps import AppConfig


class DemoConfig(AppConfig):
    """An app only so that its management commands are found."""

    name = "portal.demo"
    label = "portal_demo"
    verbose_name = "Demo data"
