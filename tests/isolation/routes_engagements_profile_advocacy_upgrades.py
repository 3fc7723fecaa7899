"""Routes of the customer profile, the advocacy log and upgrade plans (pages and API),
registered with the isolation harness.

Tenant A's (Premium) rows are made through the services. Tenant B's engagement is Standard,
whose plan lacks customer advocacy, so B's rows are all made directly with the ORM: they exist,
and must still answer 404 to tenant A exactly like missing ones.
"""

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")


def _title(tenant, what: str) -> str:
    return f"{what} of {tenant.organization.slug}"


def _rows(world) -> None:
    """A profile, an advocacy item, an upgrade plan and a milestone for each tenant."""
    from engagements.advocacy import services as advocacy_services
    from engagements.advocacy.models import AdvocacyItem
    from engagements.intelligence import services as intelligence_services
    from engagements.intelligence.models import CustomerProfile
    from engagements.upgrades import services as upgrades_services
    from engagements.upgrades.models import UpgradeMilestone, UpgradePlan

    a, b = world.a, world.b
    if "profile" not in a.objects:
        engagement = a.objects["engagement"]
        a.objects["profile"] = intelligence_services.customer_profile_update(
            acting_user=world.manager, engagement=engagement, roadmap=_title(a, "Roadmap")
        )
        a.objects["advocacy"] = advocacy_services.advocacy_item_create(
            acting_user=a.poc, engagement=engagement, kind="concern", title=_title(a, "Item")
        )
        a.objects["upgrade"] = upgrades_services.upgrade_plan_create(
            acting_user=world.manager,
            engagement=engagement,
            current_version=_title(a, "Version"),
            target_version="next",
        )
        a.objects["milestone"] = upgrades_services.upgrade_milestone_add(
            acting_user=world.manager, plan=a.objects["upgrade"], title="Backup", owner=a.poc
        )
    if "profile" not in b.objects:
        engagement = b.objects["engagement"]
        b.objects["profile"] = CustomerProfile.objects.create(
            engagement=engagement, roadmap=_title(b, "Roadmap")
        )
        b.objects["advocacy"] = AdvocacyItem.objects.create(
            engagement=engagement, kind="concern", title=_title(b, "Item"), raised_by=b.poc
        )
        b.objects["upgrade"] = UpgradePlan.objects.create(
            engagement=engagement,
            current_version=_title(b, "Version"),
            target_version="next",
            created_by=world.other_manager,
        )
        b.objects["milestone"] = UpgradeMilestone.objects.create(
            plan=b.objects["upgrade"], title="Backup", owner=b.poc
        )


def engagement(world, tenant):
    _rows(world)
    return {"pk": tenant.objects["engagement"].pk}


def item_in_engagement(world, tenant):
    _rows(world)
    return {"pk": tenant.objects["engagement"].pk, "item_pk": tenant.objects["advocacy"].pk}


def plan_in_engagement(world, tenant):
    _rows(world)
    return {"pk": tenant.objects["engagement"].pk, "plan_pk": tenant.objects["upgrade"].pk}


def milestone_in_engagement(world, tenant):
    _rows(world)
    return {
        "pk": tenant.objects["engagement"].pk,
        "milestone_pk": tenant.objects["milestone"].pk,
    }


def profile(world, tenant):
    _rows(world)
    return {"engagement": tenant.objects["engagement"].pk}


def advocacy(world, tenant):
    _rows(world)
    return {"pk": tenant.objects["advocacy"].pk}


def upgrade(world, tenant):
    _rows(world)
    return {"pk": tenant.objects["upgrade"].pk}


def both(world, tenant):
    _rows(world)
    return {}


def milestone_data(world, tenant):
    return {"title": "Dry run"}


# --- Pages -----------------------------------------------------------------------------------
register(Route("customer_profile", "detail", kwargs=engagement, roles=ALL))
register(Route("advocacy_list", "detail", kwargs=engagement, roles=ALL))
register(Route("advocacy_create", "detail", kwargs=engagement, roles=ALL))
register(Route("advocacy_edit", "detail", kwargs=item_in_engagement, roles=ALL))
register(Route("upgrade_plan_list", "detail", kwargs=engagement, roles=ALL))
register(Route("upgrade_plan_create", "detail", kwargs=engagement, roles=ALL))
register(Route("upgrade_plan_edit", "detail", kwargs=plan_in_engagement, roles=ALL))
register(Route("upgrade_milestone_create", "detail", kwargs=plan_in_engagement, roles=ALL))
register(Route("upgrade_milestone_edit", "detail", kwargs=milestone_in_engagement, roles=ALL))
register(
    Route(
        "upgrade_milestone_done",
        "detail",
        method="post",
        kwargs=milestone_in_engagement,
        roles=ALL,
    )
)

# --- API -------------------------------------------------------------------------------------
register(
    Route(
        "customer-profile-list",
        "list",
        kwargs=both,
        marker=lambda world, tenant: f'"roadmap":"{_title(tenant, "Roadmap")}"',
        roles=ALL,
    )
)
register(Route("customer-profile-detail", "detail", kwargs=profile, roles=ALL))
register(
    Route(
        "advocacy-item-list",
        "list",
        kwargs=both,
        marker=lambda world, tenant: f'"title":"{_title(tenant, "Item")}"',
        roles=ALL,
    )
)
register(Route("advocacy-item-detail", "detail", kwargs=advocacy, roles=ALL))
register(
    Route(
        "upgrade-plan-list",
        "list",
        kwargs=both,
        marker=lambda world, tenant: f'"current_version":"{_title(tenant, "Version")}"',
        roles=ALL,
    )
)
register(Route("upgrade-plan-detail", "detail", kwargs=upgrade, roles=ALL))
register(
    Route(
        "upgrade-plan-milestones",
        "detail",
        method="post",
        kwargs=upgrade,
        data=milestone_data,
        roles=ALL,
    )
)
