"""Routes of the maintenance and release-management pages and API, registered with the isolation
harness.

Each tenant's engagement (A: Premium, B: Standard: both include the two functions) gets one
maintenance window and one change, made on first use and kept in `tenant.objects`. POST routes
are checked with an empty body: another tenant's row must answer 404 before input is looked at.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")


def ensure_rows(world) -> None:
    from reviews.maintenance.models import MaintenanceWindow
    from reviews.releases.models import ChangeItem

    for offset, tenant in enumerate((world.a, world.b)):
        if "maintenance_window" in tenant.objects:
            continue
        engagement = tenant.objects["engagement"]
        zone = ZoneInfo(engagement.timezone)
        tenant.objects["maintenance_window"] = MaintenanceWindow.objects.create(
            engagement=engagement,
            title=f"Patch night of {tenant.organization.name}",
            starts_at=datetime(2027, 3, 2 + offset, 20, tzinfo=zone),
            ends_at=datetime(2027, 3, 2 + offset, 23, tzinfo=zone),
        )
        tenant.objects["change"] = ChangeItem.objects.create(
            engagement=engagement,
            title=f"Database upgrade of {tenant.organization.name}",
            kind="software",
            scheduled_at=datetime(2027, 3, 9 + offset, 20, tzinfo=zone),
        )


def engagement(world, tenant):
    ensure_rows(world)
    return {"pk": tenant.objects["engagement"].pk}


def window(world, tenant):
    ensure_rows(world)
    return {
        "pk": tenant.objects["engagement"].pk,
        "window_pk": tenant.objects["maintenance_window"].pk,
    }


def change(world, tenant):
    ensure_rows(world)
    return {"pk": tenant.objects["engagement"].pk, "change_pk": tenant.objects["change"].pk}


def api_window(world, tenant):
    ensure_rows(world)
    return {"pk": tenant.objects["maintenance_window"].pk}


def api_change(world, tenant):
    ensure_rows(world)
    return {"pk": tenant.objects["change"].pk}


def listed(world, tenant):
    ensure_rows(world)
    return {}


# --- Pages -------------------------------------------------------------------------------------

register(Route("maintenance_list", "detail", kwargs=engagement, roles=ALL))
register(Route("maintenance_edit", "detail", kwargs=window, roles=ALL))
register(Route("maintenance_status", "detail", method="post", kwargs=window, roles=ALL))
register(Route("change_list", "detail", kwargs=engagement, roles=ALL))
register(Route("change_edit", "detail", kwargs=change, roles=ALL))
for name in ("change_status", "change_acknowledge"):
    register(Route(name, "detail", method="post", kwargs=change, roles=ALL))

# --- API ---------------------------------------------------------------------------------------

register(
    Route(
        "maintenance-window-list",
        "list",
        kwargs=listed,
        marker=lambda world, tenant: f'"id":{tenant.objects["maintenance_window"].pk},"engagement"',
        roles=ALL,
    )
)
register(Route("maintenance-window-detail", "detail", kwargs=api_window, roles=ALL))
register(
    Route(
        "change-list",
        "list",
        kwargs=listed,
        marker=lambda world, tenant: f'"id":{tenant.objects["change"].pk},"engagement"',
        roles=ALL,
    )
)
register(Route("change-detail", "detail", kwargs=api_change, roles=ALL))
register(Route("change-acknowledge", "detail", method="post", kwargs=api_change, roles=ALL))
