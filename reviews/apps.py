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

        from portal.webhooks.events import register_object
        from reviews.maintenance.models import MaintenanceWindow
        from reviews.maintenance.serializers import MaintenanceWindowSerializer
        from reviews.scheduling.models import Occurrence
        from reviews.scheduling.serializers import OccurrenceSerializer

        # In a webhook's `data`: what the REST API returns the subscription's owner.
        register_object(
            Occurrence, "review", lambda row: OccurrenceSerializer(row, context={}).data
        )
        register_object(
            MaintenanceWindow,
            "maintenance_window",
            lambda row: MaintenanceWindowSerializer(row, context={}).data,
        )
