"""Three service functions of an engagement: the versioned customer profile
(customer_intelligence, every plan), the advocacy log (customer_advocacy, TSAM and Premium)
and upgrade plans (upgrade_planning, Standard and Premium). Rules per role, the entitlement
gate, history, the pages and the API, query budgets."""

import sys
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engagements.advocacy import services as advocacy_services
from engagements.advocacy.models import AdvocacyItem
from engagements.intelligence import services as intelligence_services
from engagements.intelligence.models import CustomerProfile
from engagements.upgrades import services as upgrades_services
from engagements.upgrades.models import UpgradeMilestone, UpgradePlan
from portal.audit import AuditEntry
from portal.errors import InvalidInput, NotAllowed, NotEntitled
from tests.conftest import page_client, services_act_in_their_scope, signed_in
from tests.factories import EngagementFactory, ManagerFactory, plan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


PROFILES = "/api/v1/customer-profiles/"
ADVOCACY = "/api/v1/advocacy-items/"
UPGRADES = "/api/v1/upgrade-plans/"


def tsam_engagement(world):
    return EngagementFactory(
        organization=world.a.organization, plan=plan("tsam"), manager=world.manager
    )


# --- Customer profile -------------------------------------------------------------------------


def test_staff_and_contacts_edit_the_profile_and_history_records_who(world):
    engagement = world.a.objects["engagement"]
    intelligence_services.customer_profile_update(
        acting_user=world.manager, engagement=engagement, roadmap="Move to the cloud"
    )
    profile = intelligence_services.customer_profile_update(
        acting_user=world.a.poc, engagement=engagement, priorities=" Uptime ", roadmap="Cloud"
    )
    assert (profile.roadmap, profile.priorities, profile.updated_by) == (
        "Cloud",
        "Uptime",
        world.a.poc,
    )
    assert [
        entry.actor
        for entry in AuditEntry.objects.filter(
            action="customer_profile.update", object_id=str(profile.pk)
        ).order_by("at", "id")
    ] == [world.manager, world.a.poc]
    changes = intelligence_services.customer_profile_changes(profile)
    assert [change["user"] for change in changes] == [world.a.poc, world.manager]
    assert [str(field) for field in changes[0]["fields"]] == ["roadmap", "priorities"]
    assert AuditEntry.objects.filter(action="customer_profile.update").count() == 2


def test_members_and_outsiders_do_not_edit_the_profile(world):
    engagement = world.a.objects["engagement"]
    for outsider in (world.a.member, world.other_manager, ManagerFactory()):
        with pytest.raises(NotAllowed):
            intelligence_services.customer_profile_update(
                acting_user=outsider, engagement=engagement, roadmap="x"
            )
    with pytest.raises(InvalidInput) as error:
        intelligence_services.customer_profile_update(
            acting_user=world.manager, engagement=engagement, budget="x"
        )
    assert "budget" in error.value.fields
    assert not CustomerProfile.objects.exists()


def test_every_plan_has_customer_intelligence(world):
    for engagement, user in (
        (world.b.objects["engagement"], world.b.poc),
        (tsam_engagement(world), world.manager),
    ):
        profile = intelligence_services.customer_profile_update(
            acting_user=user, engagement=engagement, use_cases="Reporting"
        )
        assert profile.pk


def test_profile_page_and_api(world):
    engagement = world.a.objects["engagement"]
    url = f"/engagements/{engagement.pk}/intelligence/"
    poc = page_client(world.a.poc)
    response = poc.post(
        url, {"roadmap": "Consolidate", "use_cases": "", "priorities": "", "key_dates": "Q3"}
    )
    assert response.status_code == 302
    member = page_client(world.a.member)
    page = member.get(url).content.decode()
    assert "Consolidate" in page and "Poc A" in page and '<form method="post"' not in page
    assert member.post(url, {"roadmap": "x"}).status_code == 403
    detail = member.get(f"/engagements/{engagement.pk}/").content.decode()
    assert url in detail

    client = signed_in(world.manager)
    response = client.patch(f"{PROFILES}{engagement.pk}/", {"priorities": "Speed"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["priorities"] == "Speed"
    assert response.json()["updated_by"] == world.manager.pk
    listed = signed_in(world.a.member).get(PROFILES).json()["results"]
    assert [row["roadmap"] for row in listed] == ["Consolidate"]
    response = signed_in(world.a.member).patch(
        f"{PROFILES}{engagement.pk}/", {"priorities": "x"}, format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    # Before the first edit: an empty profile of a visible engagement.
    empty = signed_in(world.b.poc).get(f"{PROFILES}{world.b.objects['engagement'].pk}/")
    assert empty.status_code == 200 and empty.json()["id"] is None


# --- Advocacy ---------------------------------------------------------------------------------


def add_item(world, *, user=None, engagement=None, title="SSO for the mobile app"):
    return advocacy_services.advocacy_item_create(
        acting_user=user or world.a.poc,
        engagement=engagement or world.a.objects["engagement"],
        kind=AdvocacyItem.Kind.ENHANCEMENT_REQUEST,
        title=title,
    )


def test_contacts_and_staff_add_items_staff_decide(world):
    item = add_item(world)
    assert (item.status, item.raised_by) == ("open", world.a.poc)
    with pytest.raises(NotAllowed):
        advocacy_services.advocacy_item_update(
            acting_user=world.a.poc, item=item, status="accepted"
        )
    item = advocacy_services.advocacy_item_update(
        acting_user=world.a.poc, item=item, title="SSO (mobile)"
    )
    assert item.title == "SSO (mobile)"
    item = advocacy_services.advocacy_item_update(
        acting_user=world.manager,
        item=item,
        status="raised_internally",
        internal_reference="PM-123",
        outcome="On the product board",
    )
    assert (item.status, item.internal_reference) == ("raised_internally", "PM-123")
    with pytest.raises(NotAllowed):  # no longer open: the raiser no longer rewords it
        advocacy_services.advocacy_item_update(acting_user=world.a.poc, item=item, title="y")
    with pytest.raises(NotAllowed):
        add_item(world, user=world.a.member)
    with pytest.raises(NotAllowed):
        add_item(world, user=world.other_manager)
    with pytest.raises(InvalidInput) as error:
        advocacy_services.advocacy_item_create(
            acting_user=world.manager,
            engagement=world.a.objects["engagement"],
            kind="wish",
            title=" ",
        )
    assert set(error.value.fields) == {"kind", "title"}
    assert AuditEntry.objects.filter(action__startswith="advocacy_item.").count() == 3


def test_tsam_includes_advocacy_standard_does_not(world):
    assert add_item(world, user=world.manager, engagement=tsam_engagement(world)).pk
    engagement = world.b.objects["engagement"]
    with pytest.raises(NotEntitled) as error:
        add_item(world, user=world.b.poc, engagement=engagement)
    assert error.value.fields == {"function": ["customer_advocacy"]}

    client = page_client(world.b.poc)
    detail = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert f"/engagements/{engagement.pk}/advocacy/" not in detail
    assert f"/engagements/{engagement.pk}/intelligence/" in detail
    response = client.get(f"/engagements/{engagement.pk}/advocacy/")
    assert response.status_code == 403 and "Customer advocacy" in response.content.decode()
    api = signed_in(world.b.poc)
    response = api.post(
        ADVOCACY,
        {"engagement": engagement.pk, "kind": "concern", "title": "x"},
        format="json",
    )
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"
    assert api.get(ADVOCACY, {"engagement": engagement.pk}).json()["code"] == "not_entitled"


def test_advocacy_pages_and_api(world):
    engagement = world.a.objects["engagement"]
    url = f"/engagements/{engagement.pk}/advocacy/"
    response = page_client(world.a.poc).post(
        f"{url}new/", {"kind": "concern", "title": "Slow exports", "description": ""}
    )
    assert response.status_code == 302
    item = AdvocacyItem.objects.get(title="Slow exports")
    response = page_client(world.manager).post(
        f"{url}{item.pk}/",
        {
            "kind": "concern",
            "title": "Slow exports",
            "status": "accepted",
            "outcome": "Fixed in 5.2",
            "internal_reference": "",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "accepted"
    member = page_client(world.a.member)
    assert "Fixed in 5.2" in member.get(url).content.decode()
    assert member.get(f"{url}new/").status_code == 403
    assert member.get(f"{url}{item.pk}/").status_code == 403

    client = signed_in(world.a.poc)
    response = client.post(
        ADVOCACY,
        {"engagement": engagement.pk, "kind": "escalation_of_interest", "title": "Roadmap seat"},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["raised_by"] == world.a.poc.pk and created["status"] == "open"
    response = client.patch(f"{ADVOCACY}{created['id']}/", {"status": "accepted"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    response = signed_in(world.manager).patch(
        f"{ADVOCACY}{created['id']}/", {"status": "declined"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "declined"


# --- Upgrade planning -------------------------------------------------------------------------


def add_plan(world, engagement=None, **extra):
    return upgrades_services.upgrade_plan_create(
        acting_user=world.manager,
        engagement=engagement or world.a.objects["engagement"],
        current_version="4.2",
        target_version="5.0",
        **extra,
    )


def test_staff_plan_upgrades_and_contacts_mark_their_milestones(world):
    upgrade = add_plan(world)
    mine = upgrades_services.upgrade_milestone_add(
        acting_user=world.manager, plan=upgrade, title="Back up", owner=world.a.poc
    )
    theirs = upgrades_services.upgrade_milestone_add(
        acting_user=world.manager,
        plan=upgrade,
        title="Upgrade the test system",
        due_date=date(2030, 1, 10),
        owner_name="Customer DBA",
    )
    mine = upgrades_services.upgrade_milestone_update(
        acting_user=world.a.poc, milestone=mine, done=True
    )
    assert mine.done and mine.done_at is not None
    for user, milestone, changes in (
        (world.a.poc, theirs, {"done": True}),
        (world.a.poc, mine, {"title": "x"}),
        (world.a.member, mine, {"done": False}),
    ):
        with pytest.raises(NotAllowed):
            upgrades_services.upgrade_milestone_update(
                acting_user=user, milestone=milestone, **changes
            )
    # Another engagement's manager does not see the milestone at all (a 404 in the portal).
    with pytest.raises(UpgradeMilestone.DoesNotExist):
        upgrades_services.upgrade_milestone_update(
            acting_user=world.other_manager, milestone=mine, done=False
        )
    with pytest.raises(NotAllowed):
        upgrades_services.upgrade_plan_create(
            acting_user=world.a.poc,
            engagement=world.a.objects["engagement"],
            current_version="1",
            target_version="2",
        )
    with pytest.raises(InvalidInput) as error:
        upgrades_services.upgrade_milestone_add(
            acting_user=world.manager, plan=upgrade, title="x", owner=world.b.poc
        )
    assert "owner" in error.value.fields
    upgrade = upgrades_services.upgrade_plan_update(
        acting_user=world.manager, plan=upgrade, status="agreed"
    )
    assert upgrade.status == "agreed"
    with pytest.raises(InvalidInput):
        upgrades_services.upgrade_plan_update(
            acting_user=world.manager, plan=upgrade, status="later"
        )
    assert AuditEntry.objects.filter(action__startswith="upgrade_").count() == 5


def test_upgrade_planning_is_refused_for_tsam(world):
    engagement = tsam_engagement(world)
    with pytest.raises(NotEntitled) as error:
        add_plan(world, engagement=engagement)
    assert error.value.fields == {"function": ["upgrade_planning"]}
    client = page_client(world.manager)
    assert (
        f"/engagements/{engagement.pk}/upgrades/"
        not in client.get(f"/engagements/{engagement.pk}/").content.decode()
    )
    response = client.get(f"/engagements/{engagement.pk}/upgrades/")
    assert response.status_code == 403 and "Upgrade planning" in response.content.decode()
    response = signed_in(world.manager).post(
        UPGRADES,
        {"engagement": engagement.pk, "current_version": "1", "target_version": "2"},
        format="json",
    )
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"
    # Standard includes it.
    assert upgrades_services.upgrade_plan_create(
        acting_user=world.other_manager,
        engagement=world.b.objects["engagement"],
        current_version="1",
        target_version="2",
    ).pk


def test_upgrade_pages_and_api(world):
    engagement = world.a.objects["engagement"]
    url = f"/engagements/{engagement.pk}/upgrades/"
    manager = page_client(world.manager)
    response = manager.post(
        f"{url}new/",
        {"current_version": "4.2", "target_version": "5.0", "status": "draft", "notes": ""},
    )
    assert response.status_code == 302
    upgrade = UpgradePlan.objects.get()
    response = manager.post(
        f"{url}{upgrade.pk}/milestones/new/",
        {"title": "Back up", "due_date": "2030-01-05", "owner": str(world.a.poc.pk)},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    milestone = UpgradeMilestone.objects.get()
    poc = page_client(world.a.poc)
    page = poc.get(url).content.decode()
    assert "Back up" in page and f"{url}new/" not in page
    assert "/reviews/request/?engagement=" in page and "deliverable=upgrade_planning" in page
    response = poc.post(f"{url}milestones/{milestone.pk}/done/", {"done": "1"})
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.done
    member = page_client(world.a.member)
    assert member.post(f"{url}milestones/{milestone.pk}/done/", {"done": "0"}).status_code == 403
    assert member.get(f"{url}new/").status_code == 403

    client = signed_in(world.manager)
    response = client.post(
        UPGRADES,
        {"engagement": engagement.pk, "current_version": "5.0", "target_version": "5.1"},
        format="json",
    )
    assert response.status_code == 201, response.content
    plan_id = response.json()["id"]
    response = client.post(
        f"{UPGRADES}{plan_id}/milestones/",
        {"title": "Freeze", "owner": world.manager.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    foreign = client.post(
        f"{UPGRADES}{plan_id}/milestones/", {"title": "x", "owner": world.b.poc.pk}, format="json"
    )
    missing = client.post(
        f"{UPGRADES}{plan_id}/milestones/", {"title": "x", "owner": 987654}, format="json"
    )
    assert foreign.status_code == missing.status_code == 400
    listed = signed_in(world.a.member).get(UPGRADES, {"engagement": engagement.pk}).json()
    titles = [[m["title"] for m in row["milestones"]] for row in listed["results"]]
    assert titles == [["Freeze"], ["Back up"]]
    response = signed_in(world.a.poc).post(
        f"{UPGRADES}{plan_id}/milestones/", {"title": "x"}, format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


# --- Query budgets ----------------------------------------------------------------------------


def _grow_profiles(world, count: int) -> None:
    """History rows on A's profile, and profiles of further engagements of A."""
    for n in range(count):
        intelligence_services.customer_profile_update(
            acting_user=world.a.poc,
            engagement=world.a.objects["engagement"],
            roadmap=f"roadmap {AuditEntry.objects.count()}",
        )
        other = EngagementFactory(organization=world.a.organization, manager=world.manager)
        intelligence_services.customer_profile_update(
            acting_user=world.manager, engagement=other, roadmap=f"other {n}"
        )


def _grow_items(world, count: int) -> None:
    for _n in range(count):
        add_item(world, title=f"item {AdvocacyItem.objects.count()}")


def _grow_plans(world, count: int) -> None:
    for _n in range(count):
        upgrade = add_plan(world, notes=f"plan {UpgradePlan.objects.count()}")
        for title in ("one", "two"):
            upgrades_services.upgrade_milestone_add(
                acting_user=world.manager, plan=upgrade, title=title, owner=world.a.poc
            )


SURFACES = {
    "profile-page": (_grow_profiles, "page", "/engagements/{pk}/intelligence/"),
    "profile-api": (_grow_profiles, "api", PROFILES),
    "advocacy-page": (_grow_items, "page", "/engagements/{pk}/advocacy/"),
    "advocacy-api": (_grow_items, "api", ADVOCACY),
    "upgrade-page": (_grow_plans, "page", "/engagements/{pk}/upgrades/"),
    "upgrade-api": (_grow_plans, "api", UPGRADES),
}


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("role", ["poc", "manager"])
def test_list_queries_do_not_grow_with_rows(world, surface, role):
    grow, kind, url = SURFACES[surface]
    user = world.a.poc if role == "poc" else world.manager
    url = url.format(pk=world.a.objects["engagement"].pk)
    client = page_client(user) if kind == "page" else signed_in(user)
    params = {"page_size": 100} if kind == "api" else {}
    grow(world, 3)
    client.get(url, params)  # warm up session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, params).status_code == 200
    grow(world, 27)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)
