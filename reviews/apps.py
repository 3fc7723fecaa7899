from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Reviews")

    def ready(self) -> None:
        # Connects the scheduler's receivers of engagement and plan changes in every process
        # (the web process too, where Celery's lazy task discovery imports no tasks module).
        from reviews.audit_words import register_actions
        from reviews.notification_kinds import register_kinds
        from reviews.scheduling import tasks  # noqa: F401

        register_actions()
        register_kinds()
