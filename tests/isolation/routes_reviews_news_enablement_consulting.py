"""Routes of vendor news and roadmap announcements, the enablement catalog and environment
consulting, registered with the isolation harness.

Publications and trainings are provider-wide content with no tenant: there is no tenant B
object to hide, only a visibility by entitlement, which `tests/reviews/test_publications.py`
checks (a customer asking for one their engagements are not entitled to answers 404). They are
registered as exempt with that reason. Consulting requests are tenant-owned: each tenant's
engagement gets one request, made directly by the ORM (B's Standard plan could not request one
through the service), kept in `tenant.objects`. POST routes are checked with an empty body:
another tenant's row must answer 404 before input is looked at.
"""

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")
PROVIDER_WIDE = (
    "provider-wide content, not tenant-owned: shown by the viewer's plan entitlements, checked "
    "in tests/reviews/test_publications.py"
)


def ensure_rows(world) -> None:
    from reviews.consulting.models import ConsultingRequest

    for tenant in (world.a, world.b):
        if "consulting_request" in tenant.objects:
            continue
        tenant.objects["consulting_request"] = ConsultingRequest.objects.create(
            engagement=tenant.objects["engagement"],
            topic=f"Database tuning of {tenant.organization.name}",
            requested_by=tenant.poc,
        )


def engagement(world, tenant):
    ensure_rows(world)
    return {"pk": tenant.objects["engagement"].pk}


def consulting(world, tenant):
    ensure_rows(world)
    return {
        "pk": tenant.objects["engagement"].pk,
        "request_pk": tenant.objects["consulting_request"].pk,
    }


def api_consulting(world, tenant):
    ensure_rows(world)
    return {"pk": tenant.objects["consulting_request"].pk}


def listed(world, tenant):
    ensure_rows(world)
    return {}


# --- Provider-wide -----------------------------------------------------------------------------

for name in (
    "publication_list",
    "publication_detail",
    "publication_create",
    "enablement_catalog",
    "training_resource_remove",
    "publication-list",
    "publication-detail",
    "publication-read",
    "training-resource-list",
    "training-resource-detail",
):
    register(Route(name, "exempt", reason=PROVIDER_WIDE))

# --- Consulting: pages -------------------------------------------------------------------------

register(Route("consulting_list", "detail", kwargs=engagement, roles=ALL))
register(Route("consulting_create", "detail", kwargs=engagement, roles=ALL))
register(Route("consulting_schedule", "detail", kwargs=consulting, roles=ALL))
register(Route("consulting_status", "detail", method="post", kwargs=consulting, roles=ALL))

# --- Consulting: API ---------------------------------------------------------------------------

register(
    Route(
        "consulting-request-list",
        "list",
        kwargs=listed,
        marker=lambda world, tenant: f'"id":{tenant.objects["consulting_request"].pk},"engagement"',
        roles=ALL,
    )
)
register(Route("consulting-request-detail", "detail", kwargs=api_consulting, roles=ALL))
register(
    Route("consulting-request-schedule", "detail", method="post", kwargs=api_consulting, roles=ALL)
)
