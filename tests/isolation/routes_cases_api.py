"""Routes of the cases API, registered with the isolation harness.

Each tenant's engagement gets one case raised by its PoC (its subject names the tenant) with one
public attachment, made on first use (the harness calls `kwargs` inside the test's system scope)
and kept in `tenant.objects`. POST actions are checked with an empty body: another tenant's case
must answer 404 before the input is even looked at.
"""

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import PNG_BYTES
from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")


def subject(tenant) -> str:
    return f"Printer on fire at {tenant.organization.name}"


def ensure_case(world) -> None:
    """Give both tenants a case and an attachment on it (once per test)."""
    from cases.casework import services

    for tenant in (world.a, world.b):
        if "case" not in tenant.objects:  # another builder may have raised it first
            tenant.objects["case"] = services.case_raise(
                acting_user=tenant.poc,
                engagement=tenant.objects["engagement"],
                kind="incident",
                severity=2,
                subject=subject(tenant),
            )
        if "attachment" not in tenant.objects:
            tenant.objects["attachment"] = services.case_attach(
                acting_user=tenant.poc,
                case=tenant.objects["case"],
                upload=SimpleUploadedFile("screen.png", PNG_BYTES, content_type="image/png"),
            )


def prepare_list(world, tenant):
    ensure_case(world)
    return {}


def case(world, tenant):
    ensure_case(world)
    return {"pk": tenant.objects["case"].pk}


def attachment(world, tenant):
    ensure_case(world)
    return {"pk": tenant.objects["case"].pk, "attachment_id": tenant.objects["attachment"].pk}


register(
    Route(
        "case-list",
        "list",
        kwargs=prepare_list,
        marker=lambda world, tenant: f'"subject":"{subject(tenant)}"',
        roles=ALL,
    )
)
register(Route("case-detail", "detail", kwargs=case, roles=ALL))
register(Route("case-events", "detail", kwargs=case, roles=ALL))
register(Route("case-attachments", "detail", kwargs=case, roles=ALL))
register(Route("case-attachment-download", "detail", kwargs=attachment, roles=ALL))
for action in (
    "respond",
    "comment",
    "escalate",
    "resolve",
    "status",
    "assign",
    "priority",
    "rca",
    "rating",
):
    register(Route(f"case-{action}", "detail", method="post", kwargs=case, roles=ALL))
register(
    Route(
        "case-trends",
        "exempt",
        reason="scoped by the engagement query parameter; covered by "
        "tests/cases/test_api.py::test_trends_of_another_tenant_are_404",
    )
)
