from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Reviews")

    def ready(self) -> None:
        # Connects the engagement_changed receiver; registers the maintenance notices job.
        from reviews import tasks, tasks_functions  # noqa: F401
