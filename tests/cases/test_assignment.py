"""Only the people who serve an engagement hold its items (audit, issue 11 §2.2).

An item assigned to a manager who serves none of the engagement's customers gave them the
customer's subject by notification and e-mail and counted against their 30-item cap, though
they could not open it. Its manager and deputy may hold it (SPEC §5: "it goes to the deputy or
stays in the provider queue"); anyone else is refused: 400 with a field error in the API, a form
error on the page, and never chosen by the routing of new items.
"""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.casework import services as casework_services
from cases.casework.models import Case
from engagements.absences.models import Absence
from portal import errors as portal_errors
from portal.notifications import Notification, OutboxEmail
from tests.cases.test_services import fill_to_cap
from tests.cases.test_views import engagement_of, raise_case
from tests.conftest import page_client, services_act_in_their_scope, signed_in
from tests.factories import AdminFactory, ManagerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


NOT_SERVING = (
    "Assign the item to the engagement's manager or deputy, or leave it in the provider queue."
)


def outsiders(world) -> dict[str, object]:
    """Active provider staff who do not serve engagement A."""
    return {
        "other engagement's manager": world.other_manager,
        "unassigned manager": ManagerFactory(email="idle@provider.test", name="Ida Idle"),
        "provider admin": AdminFactory(email="admin2@provider.test", name="Adam Admin"),
    }


def nothing_reached(person) -> bool:
    return (
        not Notification.objects.filter(user=person).exists()
        and not OutboxEmail.objects.filter(to=person.email).exists()
        and casework_services.open_case_count(person) == 0
    )


@pytest.mark.parametrize(
    "who", ["other engagement's manager", "unassigned manager", "provider admin"]
)
@pytest.mark.parametrize("actor", ["manager", "admin"])
def test_api_refuses_an_assignee_who_does_not_serve_the_engagement(world, who, actor):
    case = raise_case(world, "Secret merger outage")
    person = outsiders(world)[who]
    client = signed_in(world.user(actor))
    response = client.post(
        f"/api/v1/cases/{case.pk}/assign/", {"assignee": person.pk}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json() == {
        "code": "validation_error",
        "detail": response.json()["detail"],
        "fields": {"assignee": [NOT_SERVING]},
    }
    case.refresh_from_db()
    assert case.assignee == world.manager
    assert nothing_reached(person)


def test_api_assigns_to_the_manager_and_the_deputy(world):
    engagement = engagement_of(world)
    case = raise_case(world)
    client = signed_in(world.manager)
    for person in (engagement.deputy, world.manager):
        response = client.post(
            f"/api/v1/cases/{case.pk}/assign/", {"assignee": person.pk}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["assignee"] == person.pk
    engagement.deputy.is_active = False
    engagement.deputy.save()
    response = client.post(
        f"/api/v1/cases/{case.pk}/assign/", {"assignee": engagement.deputy.pk}, format="json"
    )
    assert response.status_code == 400 and "assignee" in response.json()["fields"]


def test_service_refuses_before_writing_anything(world):
    case = raise_case(world)
    events = case.events.count()
    with pytest.raises(portal_errors.InvalidInput) as refused:
        casework_services.case_assign(
            acting_user=world.admin, case=case, assignee=world.other_manager
        )
    assert refused.value.fields == {"assignee": [NOT_SERVING]}
    case.refresh_from_db()
    assert case.assignee == world.manager and case.events.count() == events


def test_page_offers_only_the_manager_and_the_deputy(world):
    engagement = engagement_of(world)
    case = raise_case(world)
    people = outsiders(world)
    for viewer in (world.manager, world.admin):
        body = page_client(viewer).get(reverse("case_detail", args=[case.pk])).content.decode()
        form = body[body.index('id="assign"') :]
        form = form[: form.index("</form>")]
        assert f'value="{world.manager.pk}"' in form
        assert f'value="{engagement.deputy.pk}"' in form
        for person in people.values():
            assert f'value="{person.pk}"' not in form and person.email not in form


@pytest.mark.parametrize(
    "who", ["other engagement's manager", "unassigned manager", "provider admin"]
)
def test_page_refuses_an_assignee_who_does_not_serve_with_a_form_error(world, who):
    case = raise_case(world, "Secret merger outage")
    person = outsiders(world)[who]
    response = page_client(world.manager).post(
        reverse("case_assign", args=[case.pk]), {"assignee": person.pk}
    )
    assert response.status_code == 400
    assert NOT_SERVING.replace("'", "&#x27;") in response.content.decode()
    assert response.context["assign_form"].errors == {"assignee": [NOT_SERVING]}
    case.refresh_from_db()
    assert case.assignee == world.manager
    assert nothing_reached(person)
    # The deputy is fine.
    deputy = engagement_of(world).deputy
    response = page_client(world.manager).post(
        reverse("case_assign", args=[case.pk]), {"assignee": deputy.pk}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assignee == deputy


def test_routing_never_chooses_anyone_but_the_manager_or_the_deputy(world):
    engagement = engagement_of(world)
    people = outsiders(world)  # all with room, none serving
    case = raise_case(world, "First")
    assert case.assignee == world.manager
    Absence.objects.create(
        manager=world.manager,
        kind="vacation",
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(days=2),
    )
    assert raise_case(world, "While away").assignee == engagement.deputy
    fill_to_cap(world.manager)
    fill_to_cap(engagement.deputy)
    queued = raise_case(world, "Both full")
    assert queued.assignee is None  # the provider queue, which provider admins are told of
    for who, person in people.items():
        assert casework_services.open_case_count(person) == 0
        told = Notification.objects.filter(user=person, kind="case.raised").exists()
        assert told == (who == "provider admin"), who


def test_reopening_drops_an_assignee_who_no_longer_serves(world):
    engagement = engagement_of(world)
    case = raise_case(world)
    casework_services.case_resolve(acting_user=world.manager, case=case)
    engagement.manager = ManagerFactory(email="successor@provider.test")
    engagement.save()
    case.refresh_from_db()
    casework_services.case_set_status(
        acting_user=world.admin, case=case, status=Case.Status.IN_PROGRESS
    )
    case.refresh_from_db()
    assert case.assignee is None


def test_a_new_manager_takes_the_engagement_and_the_former_ones_items_go_to_the_queue(world):
    """Changing the engagement's manager (through the service, as the API and page do) leaves no
    open item with the person who stopped serving it: they could not open it any more, yet it
    would count against their cap and send them its reminders."""
    from django.test import TestCase

    from engagements.contracts.services import engagement_update

    engagement = engagement_of(world)
    kept = raise_case(world, subject="Deputy holds this")
    casework_services.case_assign(acting_user=world.manager, case=kept, assignee=engagement.deputy)
    moved = raise_case(world, subject="Manager holds this")
    casework_services.case_assign(acting_user=world.manager, case=moved, assignee=world.manager)
    done = raise_case(world, subject="Closed already")
    casework_services.case_assign(acting_user=world.manager, case=done, assignee=world.manager)
    casework_services.case_resolve(acting_user=world.manager, case=done)
    successor = ManagerFactory(email="successor@provider.test", name="Sue Successor")
    with TestCase.captureOnCommitCallbacks(execute=True):
        engagement_update(acting_user=world.admin, engagement=engagement, manager=successor)
    for case in (kept, moved, done):
        case.refresh_from_db()
    assert kept.assignee == engagement.deputy
    assert moved.assignee is None
    assert done.assignee == world.manager  # a closed item keeps who handled it
    assert casework_services.open_case_count(world.manager) == 0
    assert moved.events.filter(kind="assignment", data__to=None).exists()
    from portal.audit import AuditEntry

    entry = AuditEntry.objects.filter(action="case.assign", object_id=str(moved.pk)).latest("id")
    assert (entry.before, entry.after) == ({"assignee": world.manager.pk}, {"assignee": None})
