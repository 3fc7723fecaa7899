"""Routes of the engagements API, registered with the isolation harness.

Each tenant's engagement gets an after-hours request, a time entry and an absence of its manager,
made on first use (the harness calls `kwargs` inside the test's system scope) and kept in
`tenant.objects`. List markers are id-bearing fragments of the compact JSON the API renders.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")
CUSTOMERS = ("poc", "member")
BERLIN = ZoneInfo("Europe/Berlin")


def ensure_objects(world) -> None:
    """Give both tenants one of each object the engagements API lists (once per test)."""
    from engagements.absences.models import Absence
    from engagements.afterhours.models import AfterHoursRequest
    from engagements.contacts.models import Contact
    from engagements.time.models import TimeEntry

    for offset, tenant in enumerate((world.a, world.b)):
        if "time_entry" in tenant.objects:
            continue
        engagement = tenant.objects["engagement"]
        tenant.objects["contact"] = Contact.objects.get(engagement=engagement, user=tenant.poc)
        starts = datetime(2027, 6, 5 + 7 * offset, 10, tzinfo=BERLIN)  # Saturdays
        tenant.objects["after_hours"] = AfterHoursRequest.objects.create(
            engagement=engagement,
            requested_by=tenant.poc,
            starts_at=starts,
            ends_at=starts + timedelta(hours=4),
            reason="Weekend migration",
        )
        starts = datetime(2027, 7, 1 + 14 * offset, tzinfo=BERLIN)
        tenant.objects["absence"] = Absence.objects.create(
            manager=engagement.manager,
            kind=Absence.Kind.VACATION,
            starts_at=starts,
            ends_at=starts + timedelta(days=5),
            note="Summer",
        )
        tenant.objects["time_entry"] = TimeEntry.objects.create(
            engagement=engagement,
            manager=engagement.manager,
            date=date(2026, 6, 1),
            minutes=45,
            activity=TimeEntry.Activity.CALL,
        )


def engagement(world, tenant):
    return {"pk": tenant.objects["engagement"].pk}


def with_objects(key):
    def kwargs(world, tenant):
        ensure_objects(world)
        return {"pk": tenant.objects[key].pk}

    return kwargs


def contact(world, tenant):
    ensure_objects(world)
    return {"pk": tenant.objects["engagement"].pk, "contact_id": tenant.objects["contact"].pk}


def prepare_list(world, tenant):
    ensure_objects(world)
    return {}


def row_marker(key, relation, related):
    """`"id":<row>,"<relation>":<id>`: the start of that row in the compact JSON."""

    def marker(world, tenant):
        return f'"id":{tenant.objects[key].pk},"{relation}":{related(tenant).pk}'

    return marker


# --- The catalog: provider-wide, no tenant data ----------------------------------------------
for name in ("plan-list", "plan-detail", "service-function-list", "service-function-detail"):
    register(Route(name, "exempt", reason="the provider's service catalog: no tenant data"))

# --- Engagements -----------------------------------------------------------------------------
register(
    Route(
        "engagement-list",
        "list",
        marker=lambda world, tenant: f'"name":"{tenant.objects["engagement"].name}"',
        roles=ALL,
    )
)
register(Route("engagement-detail", "detail", kwargs=engagement, roles=ALL))
register(Route("engagement-contacts", "detail", kwargs=engagement, roles=ALL))
register(Route("engagement-contact-detail", "detail", kwargs=contact, roles=ALL))
register(Route("engagement-hours", "detail", kwargs=engagement, roles=ALL))

# --- Absences: provider staff see every absence by design, so customers are checked ------------
register(
    Route(
        "absence-list",
        "list",
        kwargs=prepare_list,
        marker=row_marker("absence", "manager", lambda t: t.objects["engagement"].manager),
        roles=CUSTOMERS,
    )
)
register(Route("absence-detail", "detail", kwargs=with_objects("absence"), roles=CUSTOMERS))

# --- After-hours requests --------------------------------------------------------------------
register(
    Route(
        "after-hours-request-list",
        "list",
        kwargs=prepare_list,
        marker=row_marker("after_hours", "engagement", lambda t: t.objects["engagement"]),
        roles=ALL,
    )
)
register(
    Route("after-hours-request-detail", "detail", kwargs=with_objects("after_hours"), roles=ALL)
)
for name in ("after-hours-request-approve", "after-hours-request-decline"):
    register(Route(name, "detail", method="post", kwargs=with_objects("after_hours"), roles=ALL))

# --- Time entries ----------------------------------------------------------------------------
register(
    Route(
        "time-entry-list",
        "list",
        kwargs=prepare_list,
        marker=row_marker("time_entry", "engagement", lambda t: t.objects["engagement"]),
        roles=ALL,
    )
)
register(Route("time-entry-detail", "detail", kwargs=with_objects("time_entry"), roles=ALL))
