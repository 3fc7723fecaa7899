"""Routes of the case pages, registered with the isolation harness."""

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")
RAISERS = ("poc", "manager")  # members cannot raise items (403), so they have no form to list


def _case(tenant):
    """One item per tenant, raised by its PoC on first use, with a subject only it has."""
    if "case" not in tenant.objects:
        from cases.casework.services import case_raise

        tenant.objects["case"] = case_raise(
            acting_user=tenant.poc,
            engagement=tenant.objects["engagement"],
            kind="incident",
            severity=1,
            subject=f"Case of {tenant.organization.slug}",
            description="Raised for the isolation matrix.",
        )
    return tenant.objects["case"]


def _attachment(tenant):
    if "attachment" not in tenant.objects:
        from django.core.files.uploadedfile import SimpleUploadedFile

        from cases.casework.services import case_attach
        from tests.conftest import PNG_BYTES

        tenant.objects["attachment"] = case_attach(
            acting_user=tenant.poc,
            case=_case(tenant),
            upload=SimpleUploadedFile("evidence.png", PNG_BYTES, content_type="image/png"),
        )
    return tenant.objects["attachment"]


def case_subject(world, tenant):
    return _case(tenant).subject


def case_kwargs(world, tenant):
    return {"pk": _case(tenant).pk}


def engagement_name(world, tenant):
    return tenant.objects["engagement"].name


def both_cases(world, tenant):
    """A list is fetched before its markers are read: raise both tenants' items first."""
    _case(world.a)
    _case(world.b)
    return {}


register(Route("case_list", "list", kwargs=both_cases, marker=case_subject, roles=ALL))
# Staff only (customers get 403, tests/cases/test_queue.py): the manager's queue lists A's item.
register(Route("staff_queue", "list", kwargs=both_cases, marker=case_subject, roles=("manager",)))
# The live fragments of the list and the queue (portal.live): the same views, one block each.
register(Route("case_list_fragment", "list", kwargs=both_cases, marker=case_subject, roles=ALL))
register(
    Route(
        "staff_queue_fragment",
        "list",
        kwargs=both_cases,
        marker=case_subject,
        roles=("manager",),
    )
)
# Who is replying (cases.presence): the heartbeat (members: 403) and the polled fragment.
register(Route("case_presence", "detail", kwargs=case_kwargs, method="post", roles=ALL))
register(Route("case_presence_list", "detail", kwargs=case_kwargs, roles=ALL))
register(Route("case_create", "list", marker=engagement_name, roles=RAISERS))
register(
    Route(
        "case_due_preview",
        "list",
        marker=engagement_name,
        data=lambda world, tenant: {"engagement": tenant.objects["engagement"].pk},
        roles=RAISERS,
    )
)
register(Route("case_detail", "detail", kwargs=case_kwargs, roles=ALL))
for name, data in [
    ("case_reply", {"body": "Hello"}),
    ("case_status", {"status": "in_progress"}),
    ("case_assign", {"assignee": ""}),
    ("case_escalate", {"reason": "Urgent"}),
    ("case_priority", {"priority": "2"}),
    ("case_rca", {"findings": "x"}),
    ("case_attach", {}),
    ("case_rate", {"score": "3"}),
]:
    register(
        Route(
            name,
            "detail",
            kwargs=case_kwargs,
            method="post",
            data=lambda world, tenant, data=data: data,
            roles=ALL,
        )
    )
register(
    Route(
        "case_attachment_download",
        "detail",
        kwargs=lambda world, tenant: {
            "pk": _case(tenant).pk,
            "attachment_pk": _attachment(tenant).pk,
        },
        roles=ALL,
    )
)
