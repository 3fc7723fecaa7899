"""Routes of the risk register and fix requests (pages and API), registered with the isolation
harness.

Tenant A's (Premium) risk and fix request are made through the services; tenant B's
engagement is Standard, whose plan lacks both functions, so its rows are made directly with
the ORM: they exist, and must still answer 404 to tenant A exactly like missing ones.
"""

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")


def _title(tenant, what: str) -> str:
    return f"{what} of {tenant.organization.slug}"


def _rows(world) -> None:
    """A risk and a fix request for each tenant (once per test)."""
    from cases.fixes import services as fixes_services
    from cases.fixes.models import FixRequest
    from cases.risks import services as risks_services
    from cases.risks.models import Risk

    a, b = world.a, world.b
    if "risk" not in a.objects:
        a.objects["risk"] = risks_services.risk_create(
            acting_user=world.manager,
            engagement=a.objects["engagement"],
            title=_title(a, "Risk"),
            likelihood=4,
            impact=4,
        )
        a.objects["fix"] = fixes_services.fix_request_create(
            acting_user=a.poc, engagement=a.objects["engagement"], title=_title(a, "Fix")
        )
    if "risk" not in b.objects:
        b.objects["risk"] = Risk.objects.create(
            engagement=b.objects["engagement"],
            title=_title(b, "Risk"),
            likelihood=4,
            impact=4,
            score=16,
            created_by=world.other_manager,
        )
        b.objects["fix"] = FixRequest.objects.create(
            engagement=b.objects["engagement"],
            title=_title(b, "Fix"),
            customer_rank=1,
            created_by=b.poc,
        )


def engagement(world, tenant):
    _rows(world)
    return {"pk": tenant.objects["engagement"].pk}


def risk_in_engagement(world, tenant):
    _rows(world)
    return {"pk": tenant.objects["engagement"].pk, "risk_pk": tenant.objects["risk"].pk}


def fix_in_engagement(world, tenant):
    _rows(world)
    return {"pk": tenant.objects["engagement"].pk, "fix_pk": tenant.objects["fix"].pk}


def risk(world, tenant):
    _rows(world)
    return {"pk": tenant.objects["risk"].pk}


def fix(world, tenant):
    _rows(world)
    return {"pk": tenant.objects["fix"].pk}


def both(world, tenant):
    _rows(world)
    return {}


def rank_order(world, tenant):
    _rows(world)
    return {"engagement": tenant.objects["engagement"].pk, "order": [tenant.objects["fix"].pk]}


# --- Pages -----------------------------------------------------------------------------------
register(Route("risk_list", "detail", kwargs=engagement, roles=ALL))
register(Route("risk_create", "detail", kwargs=engagement, roles=ALL))
register(Route("risk_edit", "detail", kwargs=risk_in_engagement, roles=ALL))
register(Route("fix_request_list", "detail", kwargs=engagement, roles=ALL))
register(Route("fix_request_create", "detail", kwargs=engagement, roles=ALL))
register(Route("fix_request_rank", "detail", method="post", kwargs=engagement, roles=ALL))
register(Route("fix_request_vendor", "detail", kwargs=fix_in_engagement, roles=ALL))

# --- API -------------------------------------------------------------------------------------
register(
    Route(
        "risk-list",
        "list",
        kwargs=both,
        marker=lambda world, tenant: f'"title":"{_title(tenant, "Risk")}"',
        roles=ALL,
    )
)
register(Route("risk-detail", "detail", kwargs=risk, roles=ALL))
register(
    Route(
        "fix-request-list",
        "list",
        kwargs=both,
        marker=lambda world, tenant: f'"title":"{_title(tenant, "Fix")}"',
        roles=ALL,
    )
)
register(Route("fix-request-detail", "detail", kwargs=fix, roles=ALL))
# Ranking names the engagement in the body: A's PoC ranks A's requests and sees only those.
register(
    Route(
        "fix-request-rank",
        "list",
        method="post",
        kwargs=both,
        data=rank_order,
        marker=lambda world, tenant: f'"title":"{_title(tenant, "Fix")}"',
        roles=("poc",),
    )
)
