from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"

    def ready(self) -> None:
        from cases import receivers  # noqa: F401 - connects the signal receivers
