"""Routes of the reviews API and the calendar feed pages, registered with the isolation harness.

Each tenant's engagement gets a service review with one action item, made on first use (the
harness calls `kwargs` inside the test's system scope) and kept in `tenant.objects`. List markers
are id-bearing fragments of the compact JSON the API renders. POST commands are checked with an
empty body: another tenant's occurrence must answer 404 before the input is looked at.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")


def ensure_review(world) -> None:
    """Give both tenants a service review with an action item (once per test)."""
    from reviews.scheduling.models import ActionItem, Occurrence

    for offset, tenant in enumerate((world.a, world.b)):
        if "api_review" in tenant.objects:
            continue
        engagement = tenant.objects["engagement"]
        review = Occurrence.objects.create(
            engagement=engagement,
            deliverable="service_review",
            period="monthly:2027-06-01",
            scheduled_start=datetime(2027, 6, 1 + offset, 10, tzinfo=ZoneInfo(engagement.timezone)),
            method="video",
        )
        tenant.objects["api_review"] = review
        tenant.objects["api_action_item"] = ActionItem.objects.create(
            occurrence=review, description=f"Send the figures to {tenant.organization.name}"
        )


def prepare_list(world, tenant):
    ensure_review(world)
    return {}


def review(world, tenant):
    ensure_review(world)
    return {"pk": tenant.objects["api_review"].pk}


def action_item(world, tenant):
    ensure_review(world)
    return {"pk": tenant.objects["api_action_item"].pk}


register(
    Route(
        "review-list",
        "list",
        kwargs=prepare_list,
        marker=lambda world, tenant: (
            f'"id":{tenant.objects["api_review"].pk},"engagement":{tenant.objects["engagement"].pk}'
        ),
        roles=ALL,
    )
)
register(Route("review-detail", "detail", kwargs=review, roles=ALL))
register(Route("review-report", "detail", kwargs=review, roles=ALL))
for command in ("complete", "cancel"):
    register(Route(f"review-{command}", "detail", method="post", kwargs=review, roles=ALL))
register(
    Route(
        "action-item-list",
        "list",
        kwargs=prepare_list,
        marker=lambda world, tenant: (
            f'"id":{tenant.objects["api_action_item"].pk},"occurrence":{tenant.objects["api_review"].pk}'
        ),
        roles=ALL,
    )
)
register(Route("action-item-detail", "detail", kwargs=action_item, roles=ALL))

# --- Calendar feeds ------------------------------------------------------------------------------
for name in ("calendar_feed", "calendar_feed_new", "calendar_feed_revoke"):
    register(Route(name, "exempt", reason="the signed-in user's own feed"))
register(
    Route(
        "calendar_feed_ics",
        "exempt",
        reason="token-authenticated; covered by tests/reviews/test_feeds.py "
        "(another user's data never appears)",
    )
)
