"""The audit trail of who changed plans, engagements and contacts: each change, whether made on
a page or through the API, leaves one entry with the actor, the time, and before/after; the
audit log shows it to provider admins and to no one else."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.absences import services as absences_services
from engagements.catalog import services as catalog_services
from engagements.catalog.models import Entitlement, Plan, ServiceFunction
from engagements.contacts import services as contacts_services
from engagements.contacts.models import Contact
from engagements.contracts import services as contracts_services
from portal.audit import AuditEntry
from tests.conftest import page_client, signed_in
from tests.factories import ManagerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def only_entry(action: str, **lookup) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(action=action, **lookup))
    assert len(entries) == 1, [str(entry) for entry in AuditEntry.objects.all()]
    entry = entries[0]
    assert (timezone.now() - entry.at).total_seconds() < 60
    return entry


def test_plan_settings_change_through_the_api_is_audited(world):
    plan = Plan.objects.get(code="standard")
    old_cap = plan.max_contacts
    response = signed_in(world.admin).patch(
        f"/api/v1/plans/{plan.pk}/", {"max_contacts": old_cap + 2}, format="json"
    )
    assert response.status_code == 200, response.content
    entry = only_entry("plan.update", object_id=str(plan.pk))
    assert entry.actor == world.admin and entry.object_type == "engagements.plan"
    assert entry.before["max_contacts"] == old_cap
    assert entry.after["max_contacts"] == old_cap + 2
    # Saving without a change writes nothing.
    signed_in(world.admin).patch(
        f"/api/v1/plans/{plan.pk}/", {"max_contacts": old_cap + 2}, format="json"
    )
    assert AuditEntry.objects.filter(action="plan.update").count() == 1


def test_entitlement_matrix_change_on_the_page_is_audited_per_plan(world):
    standard = Plan.objects.get(code="standard")
    dropped = Entitlement.objects.filter(plan=standard).select_related("function").first()
    wanted = set(Entitlement.objects.values_list("plan_id", "function_id")) - {
        (standard.pk, dropped.function_id)
    }
    before_codes = sorted(
        Entitlement.objects.filter(plan=standard).values_list("function__code", flat=True)
    )
    client = page_client(world.admin)
    shown = client.get(reverse("catalog_matrix")).context["form"].fields["shown"].initial
    response = client.post(
        reverse("catalog_matrix"),
        {"shown": shown, **{f"cell-{plan}-{function}": "on" for plan, function in wanted}},
    )
    assert response.status_code == 302
    entry = only_entry("plan.entitlements")
    assert entry.actor == world.admin and entry.object_id == str(standard.pk)
    assert entry.before == {"entitlements": before_codes}
    assert entry.after == {
        "entitlements": [code for code in before_codes if code != dropped.function.code]
    }


def test_cadence_change_is_audited(world):
    plan = Plan.objects.get(code="premium")
    deliverable = ServiceFunction.objects.get(code="service_review")
    catalog_services.cadence_set(
        acting_user=world.admin,
        plan=plan,
        deliverable=deliverable,
        methods=["in_person"],
        frequency="quarterly",
    )
    entry = only_entry("plan.cadence")
    assert entry.actor == world.admin and entry.object_id == str(plan.pk)
    assert entry.after == {
        "deliverable": "service_review",
        "methods": ["in_person"],
        "frequency": "quarterly",
    }
    assert entry.before is None or entry.before["deliverable"] == "service_review"


def test_engagement_manager_plan_and_term_changes_are_audited(world):
    engagement = world.a.objects["engagement"]
    new_manager = ManagerFactory(email="new.manager@provider.test")
    response = signed_in(world.admin).patch(
        f"/api/v1/engagements/{engagement.pk}/",
        {"manager": new_manager.pk, "plan": "standard", "end_date": "2030-12-31"},
        format="json",
    )
    assert response.status_code == 200, response.content
    entry = only_entry("engagement.update", object_id=str(engagement.pk))
    assert entry.actor == world.admin
    assert entry.organization_id == world.a.organization.pk
    assert entry.before["manager"] == world.manager.pk
    assert entry.after["manager"] == new_manager.pk
    assert entry.before["plan"] == Plan.objects.get(code="premium").pk
    assert entry.after["plan"] == Plan.objects.get(code="standard").pk
    assert entry.after["end_date"] == "2030-12-31"


def test_engagement_holidays_are_audited(world):
    engagement = world.a.objects["engagement"]
    holiday = contracts_services.engagement_holiday_add(
        acting_user=world.manager, engagement=engagement, day=date(2030, 5, 5), name="Closed"
    )
    contracts_services.engagement_holiday_remove(acting_user=world.manager, holiday=holiday)
    added = only_entry("engagement.holiday_add")
    removed = only_entry("engagement.holiday_remove")
    assert added.actor == removed.actor == world.manager
    assert added.after == removed.before == {"date": "2030-05-05", "name": "Closed"}


def test_manager_absences_are_audited(world):
    """Absences had only simple-history; they are in the one audit trail now."""
    starts = timezone.now() + timedelta(days=3)
    absence = absences_services.absence_record(
        acting_user=world.admin,
        manager=world.manager,
        kind="vacation",
        starts_at=starts,
        ends_at=starts + timedelta(days=2),
    )
    absences_services.absence_delete(acting_user=world.admin, absence=absence)
    recorded = only_entry("absence.record")
    deleted = only_entry("absence.delete")
    assert recorded.actor == deleted.actor == world.admin
    assert recorded.after == deleted.before
    assert (recorded.after["manager"], recorded.after["kind"]) == (world.manager.pk, "vacation")
    assert recorded.after["starts_at"] == starts.isoformat()


def test_contacts_added_and_removed_through_the_api_are_audited(world):
    engagement = world.a.objects["engagement"]
    person = MembershipFactory(
        organization=world.a.organization, role="member", user=UserFactory()
    ).user
    admin = signed_in(world.admin)
    response = admin.post(
        f"/api/v1/engagements/{engagement.pk}/contacts/", {"user": person.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    contact = Contact.objects.get(engagement=engagement, user=person)
    added = only_entry("contact.add", object_id=str(contact.pk))
    assert added.actor == world.admin
    assert added.after == {"engagement": engagement.pk, "user": person.pk}
    response = admin.delete(f"/api/v1/engagements/{engagement.pk}/contacts/{contact.pk}/")
    assert response.status_code == 204
    removed = only_entry("contact.remove", object_id=str(contact.pk))
    assert removed.actor == world.admin
    assert removed.before == {"engagement": engagement.pk, "user": person.pk}
    assert removed.after["removed_at"]
    assert removed.organization_id == world.a.organization.pk


def test_the_audit_log_is_for_provider_admins_only(world):
    plan = Plan.objects.get(code="standard")
    catalog_services.plan_save(
        acting_user=world.admin, plan=plan, max_contacts=plan.max_contacts + 1
    )
    contacts_services.contact_remove(
        acting_user=world.admin,
        contact=Contact.objects.get(engagement=world.b.objects["engagement"], user=world.b.poc),
    )
    response = page_client(world.admin).get(reverse("audit_log"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{world.admin.name} changed the settings of the plan {plan.name}" in page
    assert f"{world.admin.name} removed {world.b.poc.name} as a contact of" in page
    # Customers of any tenant, including the one whose contact changed, and managers: refused.
    for user in (world.a.poc, world.a.member, world.b.poc, world.manager):
        client = page_client(user)
        assert client.get(reverse("audit_log")).status_code == 403, user
        assert "contact.remove" not in client.get(reverse("dashboard")).content.decode()


def test_the_audit_api_lists_filters_and_is_for_provider_admins_only(world):
    plan = Plan.objects.get(code="standard")
    catalog_services.plan_save(
        acting_user=world.admin, plan=plan, max_contacts=plan.max_contacts + 1
    )
    contact = Contact.objects.get(engagement=world.b.objects["engagement"], user=world.b.poc)
    contacts_services.contact_remove(acting_user=world.admin, contact=contact)

    admin = signed_in(world.admin)
    rows = admin.get("/api/v1/audit-entries/", {"action": "contact.remove"}).json()["results"]
    assert [row["object_id"] for row in rows] == [str(contact.pk)]
    assert rows[0]["actor"] == world.admin.pk and rows[0]["actor_name"] == world.admin.name
    assert rows[0]["organization_id"] == world.b.organization.pk
    assert rows[0]["before"] == {"engagement": contact.engagement_id, "user": world.b.poc.pk}

    by_plan = admin.get(
        "/api/v1/audit-entries/", {"object_type": "engagements.plan", "object_id": plan.pk}
    ).json()["results"]
    assert {row["action"] for row in by_plan} == {"plan.update"}
    by_tenant = admin.get(
        "/api/v1/audit-entries/", {"organization": world.b.organization.pk}
    ).json()["results"]
    assert by_tenant and all(row["organization_id"] == world.b.organization.pk for row in by_tenant)
    assert admin.get("/api/v1/audit-entries/", {"at_after": "yesterday"}).status_code == 400

    entry = AuditEntry.objects.filter(action="contact.remove").get()
    for user in (world.a.poc, world.a.member, world.b.poc, world.manager):
        client = signed_in(user)
        for url in ("/api/v1/audit-entries/", f"/api/v1/audit-entries/{entry.pk}/"):
            response = client.get(url)
            assert response.status_code == 403, (user, url)
            assert response.json()["code"] == "permission_denied"


def test_audit_api_queries_do_not_grow_with_entries(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = signed_in(world.admin)

    def count(entries: int) -> int:
        actors = [ManagerFactory() for _ in range(entries - AuditEntry.objects.count())]
        for actor in actors:
            AuditEntry.objects.create(
                actor=actor, action="test.grow", object_type="x", object_id="1"
            )
        admin.get("/api/v1/audit-entries/")  # warm
        with CaptureQueriesContext(connection) as queries:
            response = admin.get("/api/v1/audit-entries/", {"page_size": 50})
        assert response.status_code == 200
        assert len(response.json()["results"]) == entries
        return len(queries)

    AuditEntry.objects.all().delete()
    assert count(3) == count(30)
