"""Routes of engagement health and the overdue action items (reviews/health), registered with
the isolation harness. Health is the provider's internal view: its pages answer customers 403
(so only the manager is checked there); its API looks the engagement up first, so a customer
gets 404 for another tenant's engagement as for a missing one, and 403 for their own."""

from datetime import timedelta

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")
STAFF = ("manager",)


def engagement(world, tenant):
    return {"pk": tenant.objects["engagement"].pk}


def _overdue_item(tenant):
    """An overdue action item of the tenant's engagement, named after it, made on first use."""
    if "overdue_item" not in tenant.objects:
        from django.utils import timezone

        from reviews.scheduling.models import ActionItem, Occurrence

        target = tenant.objects["engagement"]
        session = Occurrence.objects.create(
            engagement=target,
            deliverable="service_review",
            period="monthly:health",
            scheduled_start=timezone.now() - timedelta(days=10),
            method="video",
            status=Occurrence.Status.COMPLETED,
        )
        tenant.objects["overdue_item"] = ActionItem.objects.create(
            occurrence=session,
            description=f"Overdue follow-up of {target.name}",
            due_date=target.local_today() - timedelta(days=3),
        )
    return tenant.objects["overdue_item"]


def with_overdue_item(world, tenant):
    _overdue_item(tenant)
    _overdue_item(world.b)
    return {}


def overdue_marker(world, tenant):
    return _overdue_item(tenant).description


def engagement_name(world, tenant):
    return tenant.objects["engagement"].name


register(Route("engagement_health", "detail", kwargs=engagement, roles=STAFF))
register(
    Route(
        "overdue_action_items",
        "list",
        kwargs=with_overdue_item,
        marker=overdue_marker,
        roles=STAFF,
    )
)
register(Route("engagement-health-detail", "detail", kwargs=engagement, roles=ALL))
register(Route("engagement-health-list", "list", marker=engagement_name, roles=STAFF))
register(
    Route(
        "overdue-action-item-list",
        "list",
        kwargs=with_overdue_item,
        marker=overdue_marker,
        roles=STAFF,
    )
)
