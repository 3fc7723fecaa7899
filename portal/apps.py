from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from portal.db import use_fast_timestamp_loader

        connection_created.connect(use_fast_timestamp_loader, dispatch_uid="portal_timestamps")
