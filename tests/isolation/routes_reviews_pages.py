"""Routes of the session pages (weekly board, sessions, completing, requesting), registered with
the isolation harness."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")


def _occurrence(tenant):
    """A service review of the tenant's engagement, made on first use."""
    if "page_occurrence" not in tenant.objects:
        from reviews.scheduling.models import Occurrence

        engagement = tenant.objects["engagement"]
        tenant.objects["page_occurrence"] = Occurrence.objects.create(
            engagement=engagement,
            deliverable="service_review",
            period="monthly:2026-09-01",
            scheduled_start=datetime(2026, 9, 1, 10, tzinfo=ZoneInfo(engagement.timezone)),
            method="video",
        )
    return tenant.objects["page_occurrence"]


def _action_item(tenant):
    if "page_action_item" not in tenant.objects:
        from reviews.scheduling.models import ActionItem

        tenant.objects["page_action_item"] = ActionItem.objects.create(
            occurrence=_occurrence(tenant),
            description="Send the upgrade runbook",
            owner=tenant.poc,
            due_date=date(2026, 9, 15),
        )
    return tenant.objects["page_action_item"]


def occurrence(world, tenant):
    return {"pk": _occurrence(tenant).pk}


def action_item(world, tenant):
    return {"pk": _action_item(tenant).pk}


def listed(world, tenant):
    """No URL arguments; makes sure the tenant has a session to list."""
    _occurrence(tenant)
    return {}


def engagement_name(world, tenant):
    return tenant.objects["engagement"].name


register(Route("weekly_board", "list", kwargs=listed, marker=engagement_name, roles=("manager",)))
# The board's live fragment (portal.live): the same view, one block of the page.
register(
    Route(
        "weekly_board_fragment",
        "list",
        kwargs=listed,
        marker=engagement_name,
        roles=("manager",),
    )
)
register(Route("occurrence_list", "list", kwargs=listed, marker=engagement_name, roles=ALL))
register(Route("occurrence_detail", "detail", kwargs=occurrence, roles=ALL))
register(Route("occurrence_complete", "detail", kwargs=occurrence, method="post", roles=ALL))
register(Route("occurrence_cancel", "detail", kwargs=occurrence, method="post", roles=ALL))
register(Route("action_item_toggle", "detail", kwargs=action_item, method="post", roles=ALL))
register(
    Route(
        "occurrence_request",
        "exempt",
        reason=(
            "names no object; the engagement in the form is a scoped choice, so another "
            "tenant's is refused like a missing one (tests/reviews/test_views.py)"
        ),
    )
)
