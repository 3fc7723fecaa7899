"""One notion of point of contact: the organization's role follows the engagements' named
contacts (at most the plan's seats), on the engagement page, the organization page and the API."""

import sys

import pytest
from django.urls import reverse

from engagements.contacts import services as contacts_services
from engagements.contacts.models import Contact
from engagements.contacts.services import ContactLimitReached
from portal.accounts import services as account_services
from portal.accounts.models import User
from portal.errors import InvalidInput
from portal.tenancy.models import Membership
from tests.conftest import page_client, services_act_in_their_scope, signed_in
from tests.factories import AdminFactory, EngagementFactory, MembershipFactory


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


def role_of(user, organization) -> str:
    return Membership.objects.get(user=user, organization=organization).role


def test_a_member_named_a_contact_is_a_point_of_contact_until_their_last_entry_ends(db):
    admin = AdminFactory()
    first = EngagementFactory()
    second = EngagementFactory(organization=first.organization)
    person = MembershipFactory(organization=first.organization, role="member").user
    organization = first.organization

    on_first = contacts_services.contact_add(acting_user=admin, engagement=first, user=person)
    assert role_of(person, organization) == "poc"
    on_second = contacts_services.contact_add(acting_user=admin, engagement=second, user=person)
    contacts_services.contact_remove(acting_user=admin, contact=on_first)
    assert role_of(person, organization) == "poc"  # still named on the second engagement
    contacts_services.contact_remove(acting_user=admin, contact=on_second)
    assert role_of(person, organization) == "member"


def test_the_organization_page_calls_a_named_contact_what_the_engagement_page_does(world):
    engagement = world.a.objects["engagement"]
    contacts_services.contact_add(
        acting_user=world.admin, engagement=engagement, user=world.a.member
    )
    body = (
        page_client(world.admin)
        .get(reverse("organization_detail", args=[world.a.organization.pk]))
        .content.decode()
    )
    row = body.split(world.a.member.email, 1)[1].split("</tr>", 1)[0]
    assert "Named contact" in row and "Member" not in row
    assert "Point of contact" not in body


def test_provisioning_a_point_of_contact_takes_a_seat_under_the_cap(world):
    engagement = world.a.objects["engagement"]
    organization = world.a.organization
    with pytest.raises(InvalidInput) as excinfo:
        account_services.user_provision(
            acting_user=world.admin,
            email="no.seat@a.test",
            organization=organization,
            role="poc",
        )
    assert "engagement" in excinfo.value.fields
    with pytest.raises(InvalidInput) as excinfo:
        account_services.user_provision(
            acting_user=world.admin,
            email="foreign.seat@a.test",
            organization=organization,
            role="poc",
            engagement_id=world.b.objects["engagement"].pk,
        )
    assert "engagement" in excinfo.value.fields
    for n in (2, 3):  # the world's PoC holds the first seat of three
        user = account_services.user_provision(
            acting_user=world.admin,
            email=f"poc{n}@a.test",
            organization=organization,
            role="poc",
            engagement_id=engagement.pk,
        )
        assert role_of(user, organization) == "poc"
        assert Contact.objects.filter(engagement=engagement, user=user, removed_at=None).exists()
    with pytest.raises(ContactLimitReached) as excinfo:
        account_services.user_provision(
            acting_user=world.admin,
            email="poc4@a.test",
            organization=organization,
            role="poc",
            engagement_id=engagement.pk,
        )
    assert "engagement" in excinfo.value.fields
    assert not User.objects.filter(
        email__in=["no.seat@a.test", "foreign.seat@a.test", "poc4@a.test"]
    ).exists()


def test_the_api_provisions_a_point_of_contact_on_an_engagement(world):
    client = signed_in(world.admin)
    body = {
        "email": "api.poc@a.test",
        "kind": "customer",
        "organization": world.a.organization.pk,
        "role": "poc",
    }
    refused = client.post("/api/v1/users/", body, format="json")
    assert refused.status_code == 400 and "engagement" in refused.json()["fields"]
    response = client.post(
        "/api/v1/users/",
        {**body, "engagement": world.a.objects["engagement"].pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "poc" and "engagement" not in response.json()
    user = User.objects.get(email="api.poc@a.test")
    assert Contact.objects.filter(user=user, engagement=world.a.objects["engagement"]).exists()


def test_the_organization_page_names_a_new_point_of_contact_on_an_engagement(world):
    client = page_client(world.admin)
    url = reverse("organization_person_add", args=[world.a.organization.pk])
    fields = {"email": "page.poc@a.test", "name": "Page Poc", "role": "poc", "language": "en"}
    fields["time_zone"] = "UTC"
    response = client.post(url, fields)
    assert response.status_code == 200 and not User.objects.filter(email="page.poc@a.test").exists()
    assert "choose the engagement" in response.content.decode()
    response = client.post(url, {**fields, "engagement": world.a.objects["engagement"].pk})
    assert response.status_code == 302
    user = User.objects.get(email="page.poc@a.test")
    assert role_of(user, world.a.organization) == "poc"
    assert Contact.objects.filter(user=user, engagement=world.a.objects["engagement"]).exists()


def test_the_migration_makes_existing_roles_follow_the_contact_lists(world):
    """Roles recorded before: a poc who holds no contact entry, a member who holds one."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "engagements.migrations.0006_membership_role_follows_contacts"
    )
    unnamed_poc = MembershipFactory(organization=world.a.organization, role="poc").user
    Contact.objects.create(engagement=world.a.objects["engagement"], user=world.a.member)
    migration.follow_contacts(apps, None)
    assert role_of(unnamed_poc, world.a.organization) == "member"
    assert role_of(world.a.member, world.a.organization) == "poc"
    assert role_of(world.a.poc, world.a.organization) == "poc"  # named: unchanged
    assert role_of(world.b.member, world.b.organization) == "member"
