"""Routes of this part, registered with the isolation harness."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")


def engagement(world, tenant):
    return {"pk": tenant.objects["engagement"].pk}


def engagement_name(world, tenant):
    return tenant.objects["engagement"].name


def _cached(tenant, key, make):
    """Nested objects are made on first use and kept with the tenant's objects."""
    if key not in tenant.objects:
        tenant.objects[key] = make(tenant.objects["engagement"], tenant)
    return tenant.objects[key]


def _holiday(engagement, tenant):
    from engagements.contracts.models import EngagementHoliday

    return EngagementHoliday.objects.create(
        engagement=engagement, date=date(2027, 3, 3), name="Company day"
    )


def _contact(engagement, tenant):
    from engagements.contacts.models import Contact

    return Contact.objects.get(engagement=engagement, user=tenant.poc, removed_at__isnull=True)


def _after_hours(engagement, tenant):
    from engagements.afterhours.models import AfterHoursRequest

    zone = ZoneInfo(engagement.timezone)
    return AfterHoursRequest.objects.create(
        engagement=engagement,
        requested_by=tenant.poc,
        starts_at=datetime(2027, 6, 5, 9, tzinfo=zone),  # a Saturday
        ends_at=datetime(2027, 6, 5, 13, tzinfo=zone),
        reason="Migration weekend",
    )


def _entry(engagement, tenant):
    from engagements.time.models import TimeEntry

    return TimeEntry.objects.create(
        engagement=engagement,
        manager=engagement.manager,
        date=date(2026, 6, 1),
        minutes=45,
        activity="call",
        note="Weekly call",
    )


def nested(key, make, name):
    return lambda world, tenant: {
        "pk": tenant.objects["engagement"].pk,
        name: _cached(tenant, key, make).pk,
    }


register(Route("engagement_list", "list", marker=engagement_name, roles=ALL))
register(Route("engagement_create", "exempt", reason="provider admins only; creates, shows none"))
register(Route("engagement_detail", "detail", kwargs=engagement, roles=ALL))
register(Route("engagement_edit", "detail", kwargs=engagement, roles=ALL))
register(Route("engagement_holiday_add", "detail", kwargs=engagement, method="post", roles=ALL))
register(
    Route(
        "engagement_holiday_delete",
        "detail",
        kwargs=nested("holiday", _holiday, "holiday_pk"),
        method="post",
        roles=ALL,
    )
)
register(Route("engagement_contact_add", "detail", kwargs=engagement, method="post", roles=ALL))
register(
    Route(
        "engagement_contact_remove",
        "detail",
        kwargs=nested("contact", _contact, "contact_pk"),
        method="post",
        roles=ALL,
    )
)
register(Route("after_hours_list", "detail", kwargs=engagement, roles=ALL))
register(
    Route(
        "after_hours_decide",
        "detail",
        kwargs=nested("after_hours", _after_hours, "request_pk"),
        method="post",
        roles=ALL,
    )
)
register(Route("time_entries", "detail", kwargs=engagement, roles=ALL))
register(
    Route(
        "time_entry_delete",
        "detail",
        kwargs=nested("time_entry", _entry, "entry_pk"),
        method="post",
        roles=ALL,
    )
)
register(
    Route("absence_list", "exempt", reason="provider staff only; absences are not tenant data")
)
register(
    Route("absence_delete", "exempt", reason="provider staff only; absences are not tenant data")
)
