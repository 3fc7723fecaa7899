from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from cases import receivers  # noqa: F401 - connects the signal receivers
        from cases.queue.selectors import queue_count_of
        from cases.sla import breached_open_count
        from portal.context_processors import register_nav_count
        from portal.metrics import register_scrape_gauge

        register_scrape_gauge(
            "portal_sla_breached_open",
            "Open cases past their response objective with no first response yet.",
            breached_open_count,
        )
        register_nav_count("staff_queue", _("Queue"), queue_count_of)

        from cases.audit_words import register_actions
        from cases.notification_kinds import register_kinds

        register_actions()
        register_kinds()
        from cases.casework.models import Case
        from cases.casework.serializers import CaseSerializer
        from portal.webhooks.events import register_object

        # A case in a webhook's `data` is what GET /api/v1/cases/{id}/ returns its owner.
        register_object(Case, "case", lambda case: CaseSerializer(case, context={}).data)
