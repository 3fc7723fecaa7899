"""The engagements API: the catalog, engagements and contacts, absences, after-hours requests,
time entries and hours; who may do what, the error format, and query budgets."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engagements.absences.models import Absence
from engagements.afterhours.models import AfterHoursRequest
from engagements.catalog.models import Cadence, Entitlement, Plan, ServiceFunction
from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement
from engagements.time import services
from engagements.time.models import TimeEntry
from engagements.time.selectors import week_start
from portal.audit import AuditEntry
from tests.conftest import signed_in
from tests.factories import (
    EngagementFactory,
    MembershipFactory,
    plan,
)

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MISSING = 987_654


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}, body
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- The catalog -------------------------------------------------------------------------------

ALL_FUNCTIONS = [
    "customer_enablement",
    "service_review",
    "maintenance",
    "upgrade_planning",
    "root_cause_analysis",
    "customer_intelligence",
    "product_roadmap",
    "release_management",
    "customer_advocacy",
    "vendor_spokesperson",
    "risk_mitigation",
    "software_performance_reports",
    "environment_consulting",
    "escalation_management",
    "case_management",
]
NOT_IN = {
    "tsam": {"maintenance", "upgrade_planning", "release_management", "environment_consulting"},
    "standard": {
        "customer_advocacy",
        "vendor_spokesperson",
        "risk_mitigation",
        "software_performance_reports",
        "environment_consulting",
        "escalation_management",
        "case_management",
    },
    "premium": set(),
}
STANDARD_CADENCES = [
    ("customer_enablement", ["self_paced"], "as_needed"),
    ("service_review", ["video"], "quarterly"),
    ("maintenance", ["email"], "as_needed"),
    ("upgrade_planning", ["video"], "as_needed"),
    ("root_cause_analysis", ["email"], "as_needed"),
    ("customer_intelligence", ["email"], "quarterly"),
    ("product_roadmap", ["email"], "quarterly"),
    ("release_management", ["email"], "as_needed"),
]
PREMIUM_CADENCES = [
    ("customer_enablement", ["in_person", "video"], "as_needed"),
    ("service_review", ["in_person", "video"], "monthly"),
    ("maintenance", ["video", "email", "phone"], "as_needed"),
    ("upgrade_planning", ["in_person", "video"], "as_needed"),
    ("root_cause_analysis", ["video", "phone"], "as_needed"),
    ("customer_intelligence", ["video", "email", "phone"], "weekly"),
    ("product_roadmap", ["in_person", "video"], "monthly"),
    ("release_management", ["in_person", "video"], "as_needed"),
]


KOREAN_PLAN_NAMES = {
    "tsam": "기술 지원 어카운트 매니저(TSAM)",
    "standard": "SaaS 표준 서비스 관리",
    "premium": "SaaS 프리미엄 서비스 관리",
}


def expected_plan(code, name, deployment, pricing, target, weekly_call, cadences):
    return {
        "code": code,
        "name": name,
        "name_ko": KOREAN_PLAN_NAMES[code],
        "deployment": deployment,
        "pricing": pricing,
        "response_target_business_days": target,
        "max_contacts": 3,
        "weekly_hours_cap": 10,
        "max_open_cases_per_manager": 30,
        "weekly_call": weekly_call,
        "entitlements": [code_ for code_ in ALL_FUNCTIONS if code_ not in NOT_IN[code]],
        "cadences": [
            {"deliverable": deliverable, "methods": methods, "frequency": frequency}
            for deliverable, methods, frequency in cadences
            if deliverable not in NOT_IN[code]
        ],
    }


EXPECTED_PLANS = [
    # TSAM takes the Premium column for the deliverables its plan includes (SPEC §3).
    expected_plan(
        "tsam",
        "Technical Support Account Manager",
        "on_prem",
        "add_on",
        1,
        True,
        PREMIUM_CADENCES,
    ),
    expected_plan(
        "standard",
        "SaaS Standard Service Management",
        "saas",
        "included",
        2,
        False,
        STANDARD_CADENCES,
    ),
    expected_plan(
        "premium", "SaaS Premium Service Management", "saas", "add_on", 1, True, PREMIUM_CADENCES
    ),
]


def test_plans_payload_equals_the_seeded_spec_values(world):
    rows = results(signed_in(world.a.member).get("/api/v1/plans/"))
    for row in rows:
        assert isinstance(row.pop("id"), int)
        assert row.pop("created_at") <= row.pop("updated_at")  # for sync (portal.api.sync)
    assert rows == EXPECTED_PLANS


def test_plan_detail_and_code_filter(world):
    client = signed_in(world.a.poc)
    (row,) = results(client.get("/api/v1/plans/", {"code": "standard"}))
    assert row["code"] == "standard"
    detail = client.get(f"/api/v1/plans/{row['id']}/")
    assert detail.status_code == 200 and detail.json() == row
    assert results(client.get("/api/v1/plans/", {"code": "nope"})) == []
    assert_error(client.get(f"/api/v1/plans/{MISSING}/"), 404, "not_found")


def test_admins_change_plan_settings_and_nobody_else(world):
    premium = plan("premium")
    url = f"/api/v1/plans/{premium.pk}/"
    admin = signed_in(world.admin)
    response = admin.patch(url, {"weekly_hours_cap": 12, "max_contacts": 4}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["weekly_hours_cap"] == 12 and response.json()["max_contacts"] == 4
    premium.refresh_from_db()
    assert premium.max_contacts == 4
    entry = AuditEntry.objects.get(action="plan.update", object_id=str(premium.pk))
    assert entry.actor == world.admin and entry.after["max_contacts"] == 4
    body = assert_error(
        admin.patch(url, {"max_contacts": 0}, format="json"), 400, "validation_error"
    )
    assert "max_contacts" in body["fields"]
    body = assert_error(admin.patch(url, {"code": "gold"}, format="json"), 400, "validation_error")
    assert "code" in body["fields"]
    for user in (world.a.poc, world.manager):
        assert_error(
            signed_in(user).patch(url, {"max_contacts": 9}, format="json"),
            403,
            "permission_denied",
        )
    premium.refresh_from_db()
    assert premium.max_contacts == 4


def test_admin_adds_a_plan(world):
    response = signed_in(world.admin).post(
        "/api/v1/plans/",
        {"code": "gold", "name": "Gold", "deployment": "saas", "pricing": "add_on"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["entitlements"] == [] and response.json()["max_contacts"] == 3
    assert Plan.objects.filter(code="gold").exists()


def test_service_functions(world):
    client = signed_in(world.a.poc)
    rows = results(client.get("/api/v1/service-functions/"))
    assert [row["code"] for row in rows] == ALL_FUNCTIONS
    assert set(rows[0]) == {
        "id",
        "code",
        "name",
        "name_ko",
        "description",
        "description_ko",
        "created_at",
        "updated_at",
    }
    assert (rows[0]["name"], rows[0]["name_ko"]) == ("Customer enablement", "고객 지원")
    url = f"/api/v1/service-functions/{rows[0]['id']}/"
    assert_error(client.patch(url, {"name": "Mine"}, format="json"), 403, "permission_denied")
    admin = signed_in(world.admin)
    response = admin.patch(url, {"name": "Enablement", "description": "Training."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["code"] == "customer_enablement"
    assert ServiceFunction.objects.get(code="customer_enablement").name == "Enablement"
    body = assert_error(
        admin.patch(url, {"code": "renamed"}, format="json"), 400, "validation_error"
    )
    assert "code" in body["fields"]
    assert_error(admin.patch(url, {"name": " "}, format="json"), 400, "validation_error")


# --- Engagements -------------------------------------------------------------------------------


def engagement_payload(world, **changes):
    return {
        "organization": world.a.organization.pk,
        "plan": "standard",
        "name": "Second contract",
        "manager": world.other_manager.pk,
        "deputy": world.manager.pk,
        "timezone": "Asia/Seoul",
        "holiday_country": "KR",
        "language": "ko",
        "start_date": "2026-01-01",
        "end_date": "2099-12-31",
        **changes,
    }


def test_admin_creates_and_updates_an_engagement(world):
    admin = signed_in(world.admin)
    response = admin.post("/api/v1/engagements/", engagement_payload(world), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["plan"] == "standard" and body["organization"] == world.a.organization.pk
    assert body["status"] == "active" and body["response_target_business_days"] == 2
    assert body["business_hours"][0] == ["09:00", "17:00"] and body["business_hours"][5] is None
    engagement = Engagement.objects.get(pk=body["id"])
    assert engagement.manager == world.other_manager and engagement.language == "ko"
    assert AuditEntry.objects.filter(action="engagement.create", object_id=str(engagement.pk))
    url = f"/api/v1/engagements/{engagement.pk}/"
    response = admin.patch(url, {"plan": "premium", "start_date": "2099-01-01"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["response_target_business_days"] == 1
    assert response.json()["status"] == "upcoming"
    # Resending the same organization is fine; moving to another is not.
    response = admin.patch(url, {"organization": world.a.organization.pk}, format="json")
    assert response.status_code == 200, response.content
    body = assert_error(
        admin.patch(url, {"organization": world.b.organization.pk}, format="json"),
        400,
        "validation_error",
    )
    assert "organization" in body["fields"]
    engagement.refresh_from_db()
    assert engagement.organization == world.a.organization and engagement.plan.code == "premium"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"deputy": "manager"}, "deputy"),
        ({"manager": "customer"}, "manager"),
        ({"deputy": "customer"}, "deputy"),
        ({"plan": "gold"}, "plan"),
        ({"end_date": "2025-01-01"}, "end_date"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"business_hours": [["17:00", "09:00"]] * 7}, "business_hours"),
        ({"organization": MISSING}, "organization"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_engagement_validation_errors_name_the_field(world, changes, field):
    people = {"manager": world.other_manager.pk, "customer": world.a.poc.pk}
    changes = {
        key: people[value] if key in ("manager", "deputy") else value
        for key, value in changes.items()
    }
    before = Engagement.objects.count()
    body = assert_error(
        signed_in(world.admin).post(
            "/api/v1/engagements/", engagement_payload(world, **changes), format="json"
        ),
        400,
        "validation_error",
    )
    assert field in body["fields"], body
    assert Engagement.objects.count() == before


def test_customers_and_managers_cannot_write_engagements(world):
    mine = world.a.objects["engagement"]
    for user in (world.a.poc, world.a.member, world.manager):
        client = signed_in(user)
        assert_error(
            client.post("/api/v1/engagements/", engagement_payload(world), format="json"),
            403,
            "permission_denied",
        )
        assert_error(
            client.patch(f"/api/v1/engagements/{mine.pk}/", {"name": "x"}, format="json"),
            403,
            "permission_denied",
        )
    mine.refresh_from_db()
    assert mine.name == "Engagement A"


def test_each_actor_sees_only_their_engagements(world):
    a, b = world.a.objects["engagement"], world.b.objects["engagement"]
    elsewhere = EngagementFactory()  # neither manager serves it
    seen = {
        user: {row["id"] for row in results(signed_in(user).get("/api/v1/engagements/"))}
        for user in (world.manager, world.other_manager, world.a.poc, world.admin)
    }
    assert seen[world.manager] == {a.pk}
    assert seen[world.other_manager] == {b.pk}
    assert seen[world.a.poc] == {a.pk}
    assert seen[world.admin] == {a.pk, b.pk, elsewhere.pk}
    deputy = signed_in(a.deputy)
    assert {row["id"] for row in results(deputy.get("/api/v1/engagements/"))} == {a.pk}
    foreign = signed_in(world.manager).get(f"/api/v1/engagements/{b.pk}/")
    missing = signed_in(world.manager).get(f"/api/v1/engagements/{MISSING}/")
    assert foreign.status_code == 404 and foreign.json() == missing.json()


def test_engagement_filters(world):
    a = world.a.objects["engagement"]
    organization = world.a.organization
    today = timezone.now().date()
    upcoming = EngagementFactory(
        organization=organization,
        manager=world.manager,
        plan=plan("standard"),
        start_date=today + timedelta(days=30),
        end_date=today + timedelta(days=400),
        language="ko",
    )
    expired = EngagementFactory(
        organization=organization,
        manager=world.manager,
        start_date=today - timedelta(days=400),
        end_date=today - timedelta(days=30),
        timezone="Pacific/Kiritimati",
    )
    client = signed_in(world.a.poc)

    def ids(**params):
        return {row["id"] for row in results(client.get("/api/v1/engagements/", params))}

    assert ids() == {a.pk, upcoming.pk, expired.pk}
    assert ids(status="active") == {a.pk}
    assert ids(status="upcoming") == {upcoming.pk}
    assert ids(status="expired") == {expired.pk}
    assert ids(plan="standard") == {upcoming.pk}
    assert ids(language="ko") == {upcoming.pk}
    assert ids(manager=world.manager.pk) == {a.pk, upcoming.pk, expired.pk}
    assert ids(deputy=a.deputy_id) == {a.pk}
    assert ids(organization=organization.pk) == {a.pk, upcoming.pk, expired.pk}
    for row in results(client.get("/api/v1/engagements/")):
        assert row["status"] == Engagement.objects.get(pk=row["id"]).status
    # Another tenant's organization is refused exactly like one that does not exist.
    foreign = client.get("/api/v1/engagements/", {"organization": world.b.organization.pk})
    missing = client.get("/api/v1/engagements/", {"organization": MISSING})
    body = assert_error(foreign, 400, "validation_error")
    assert body == missing.json()
    assert_error(client.get("/api/v1/engagements/", {"status": "bogus"}), 400, "validation_error")


# --- Named contacts --------------------------------------------------------------------------


def contacts_url(engagement) -> str:
    return f"/api/v1/engagements/{engagement.pk}/contacts/"


def test_admin_names_contacts_up_to_the_limit_and_removes_them(world):
    engagement = world.a.objects["engagement"]
    admin = signed_in(world.admin)
    second, third, fourth = (
        MembershipFactory(organization=world.a.organization).user for _ in range(3)
    )
    for user in (second, third):
        response = admin.post(contacts_url(engagement), {"user": user.pk}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["user"] == user.pk
        assert response.json()["added_by"] == world.admin.pk
    body = assert_error(
        admin.post(contacts_url(engagement), {"user": fourth.pk}, format="json"),
        409,
        "contact_limit_reached",
    )
    assert "user" in body["fields"]
    assert not Contact.objects.filter(user=fourth).exists()
    body = assert_error(
        admin.post(contacts_url(engagement), {"user": second.pk}, format="json"),
        400,
        "validation_error",
    )
    assert "user" in body["fields"]
    rows = signed_in(world.a.poc).get(contacts_url(engagement)).json()
    assert [row["user"] for row in rows] == [world.a.poc.pk, second.pk, third.pk]
    assert set(rows[0]) == {
        "id",
        "user",
        "added_at",
        "added_by",
        "removed_at",
        "created_at",
        "updated_at",
    }

    removed = Contact.objects.get(engagement=engagement, user=second)
    detail = f"{contacts_url(engagement)}{removed.pk}/"
    assert_error(signed_in(world.a.poc).delete(detail), 403, "permission_denied")
    assert_error(signed_in(world.manager).delete(detail), 403, "permission_denied")
    assert admin.delete(detail).status_code == 204
    removed.refresh_from_db()
    assert removed.removed_at is not None and removed.removed_by == world.admin
    assert [row["user"] for row in admin.get(contacts_url(engagement)).json()] == [
        world.a.poc.pk,
        third.pk,
    ]
    rows = admin.get(contacts_url(engagement), {"include_removed": "true"}).json()
    assert [(row["user"], row["removed_at"] is not None) for row in rows] == [
        (world.a.poc.pk, False),
        (second.pk, True),
        (third.pk, False),
    ]
    assert admin.get(detail).json()["removed_at"] is not None
    response = admin.post(contacts_url(engagement), {"user": fourth.pk}, format="json")
    assert response.status_code == 201, response.content


def test_another_tenants_user_fails_like_a_missing_one(world):
    admin = signed_in(world.admin)
    url = contacts_url(world.a.objects["engagement"])
    foreign = assert_error(
        admin.post(url, {"user": world.b.poc.pk}, format="json"), 400, "validation_error"
    )
    missing = assert_error(
        admin.post(url, {"user": MISSING}, format="json"), 400, "validation_error"
    )
    assert foreign["fields"]["user"] == [
        message.replace(str(MISSING), str(world.b.poc.pk)) for message in missing["fields"]["user"]
    ]
    assert foreign["detail"] == missing["detail"]
    # Provider staff and inactive members are not candidates either.
    inactive = MembershipFactory(organization=world.a.organization, is_active=False).user
    for user in (world.manager, inactive):
        body = assert_error(
            admin.post(url, {"user": user.pk}, format="json"), 400, "validation_error"
        )
        assert "user" in body["fields"]
    assert Contact.objects.filter(engagement=world.a.objects["engagement"]).count() == 1


def test_customers_cannot_name_contacts(world):
    url = contacts_url(world.a.objects["engagement"])
    for user in (world.a.poc, world.a.member, world.manager):
        assert_error(
            signed_in(user).post(url, {"user": world.a.member.pk}, format="json"),
            403,
            "permission_denied",
        )
    assert not Contact.objects.filter(user=world.a.member).exists()


def test_contacts_of_an_invisible_engagement_answer_404(world):
    b = world.b.objects["engagement"]
    contact = Contact.objects.get(engagement=b)
    client = signed_in(world.a.poc)
    assert_error(client.get(contacts_url(b)), 404, "not_found")
    assert_error(client.get(f"{contacts_url(b)}{contact.pk}/"), 404, "not_found")
    # A contact id of another engagement under a visible engagement is not found either.
    a = world.a.objects["engagement"]
    assert_error(signed_in(world.admin).get(f"{contacts_url(a)}{contact.pk}/"), 404, "not_found")


# --- Absences --------------------------------------------------------------------------------


def absence_payload(**changes):
    return {
        "kind": "vacation",
        "starts_at": "2027-07-05T00:00:00+02:00",
        "ends_at": "2027-07-10T00:00:00+02:00",
        "note": "Family trip",
        **changes,
    }


def test_managers_record_and_remove_their_own_absences(world):
    client = signed_in(world.manager)
    response = client.post("/api/v1/absences/", absence_payload(), format="json")
    assert response.status_code == 201, response.content
    absence = Absence.objects.get(pk=response.json()["id"])
    assert absence.manager == world.manager and absence.note == "Family trip"
    body = assert_error(
        client.post("/api/v1/absences/", absence_payload(), format="json"), 400, "validation_error"
    )
    assert "starts_at" in body["fields"]
    body = assert_error(
        client.post(
            "/api/v1/absences/",
            absence_payload(ends_at="2027-07-01T00:00:00+02:00"),
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "ends_at" in body["fields"]
    body = assert_error(  # like a missing id: no staff-id oracle (tests/security)
        client.post(
            "/api/v1/absences/",
            absence_payload(manager=world.other_manager.pk, starts_at="2027-08-01T00:00:00Z"),
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "manager" in body["fields"]
    other = signed_in(world.other_manager)
    assert {row["id"] for row in results(other.get("/api/v1/absences/"))} == {absence.pk}
    assert_error(other.delete(f"/api/v1/absences/{absence.pk}/"), 403, "permission_denied")
    assert client.delete(f"/api/v1/absences/{absence.pk}/").status_code == 204
    assert not Absence.objects.exists()


def test_admins_record_absences_for_any_manager(world):
    response = signed_in(world.admin).post(
        "/api/v1/absences/", absence_payload(manager=world.other_manager.pk), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["manager"] == world.other_manager.pk
    body = assert_error(
        signed_in(world.admin).post(
            "/api/v1/absences/", absence_payload(manager=world.a.poc.pk), format="json"
        ),
        400,
        "validation_error",
    )
    assert "manager" in body["fields"]


def test_customers_see_absences_of_their_managers_without_the_note(world):
    a = world.a.objects["engagement"]
    mine = Absence.objects.create(
        manager=a.manager,
        kind="vacation",
        starts_at=datetime(2027, 7, 5, tzinfo=BERLIN),
        ends_at=datetime(2027, 7, 10, tzinfo=BERLIN),
        note="Private",
    )
    deputy = Absence.objects.create(
        manager=a.deputy,
        kind="sick",
        starts_at=datetime(2027, 7, 5, tzinfo=BERLIN),
        ends_at=datetime(2027, 7, 6, tzinfo=BERLIN),
        note="Flu",
    )
    foreign = Absence.objects.create(
        manager=world.other_manager,
        kind="training",
        starts_at=datetime(2027, 7, 5, tzinfo=BERLIN),
        ends_at=datetime(2027, 7, 6, tzinfo=BERLIN),
        note="Course",
    )
    client = signed_in(world.a.member)
    rows = results(client.get("/api/v1/absences/"))
    assert {row["id"] for row in rows} == {mine.pk, deputy.pk}
    shown = {"id", "manager", "kind", "starts_at", "ends_at", "created_at", "updated_at"}
    assert all(set(row) == shown for row in rows)
    assert "Private" not in client.get(f"/api/v1/absences/{mine.pk}/").content.decode()
    assert_error(client.get(f"/api/v1/absences/{foreign.pk}/"), 404, "not_found")
    assert {row["id"] for row in results(client.get("/api/v1/absences/", {"kind": "sick"}))} == {
        deputy.pk
    }
    assert {
        row["id"] for row in results(client.get("/api/v1/absences/", {"manager": a.manager_id}))
    } == {mine.pk}
    assert_error(
        signed_in(world.a.poc).post("/api/v1/absences/", absence_payload(), format="json"),
        403,
        "permission_denied",
    )
    assert_error(client.delete(f"/api/v1/absences/{mine.pk}/"), 403, "permission_denied")
    staff_rows = results(signed_in(world.manager).get("/api/v1/absences/"))
    assert {row["id"] for row in staff_rows} == {mine.pk, deputy.pk, foreign.pk}
    assert {row["note"] for row in staff_rows} == {"Private", "Flu", "Course"}


# --- After-hours requests ----------------------------------------------------------------------


def saturday_window(days_ahead: int = 60) -> tuple[datetime, datetime]:
    day = timezone.now().astimezone(BERLIN).date() + timedelta(days=days_ahead)
    day += timedelta(days=(5 - day.weekday()) % 7)
    starts = datetime.combine(day, time(10), tzinfo=BERLIN)
    return starts, starts + timedelta(hours=4)


def after_hours_payload(target, starts, ends, **changes):
    return {
        "engagement": target.pk,
        "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(),
        "reason": "Weekend data migration",
        **changes,
    }


def test_poc_requests_after_hours_support_and_the_manager_approves(world):
    engagement = world.a.objects["engagement"]
    starts, ends = saturday_window()
    poc = signed_in(world.a.poc)
    response = poc.post(
        "/api/v1/after-hours-requests/",
        after_hours_payload(engagement, starts, ends),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["requested_by"] == world.a.poc.pk
    assert body["decided_by"] is None and body["decision_note"] == ""
    url = f"/api/v1/after-hours-requests/{body['id']}/"

    assert_error(poc.post(f"{url}approve/", {}, format="json"), 403, "permission_denied")
    other = signed_in(world.other_manager)
    assert_error(other.post(f"{url}approve/", {}, format="json"), 404, "not_found")
    manager = signed_in(world.manager)
    body = assert_error(
        manager.post(f"{url}decline/", {"note": ""}, format="json"), 400, "validation_error"
    )
    assert "note" in body["fields"]
    response = manager.post(f"{url}approve/", {"note": "Covered by Max"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved" and body["decided_by"] == world.manager.pk
    assert body["decision_note"] == "Covered by Max" and body["decided_at"]
    assert_error(manager.post(f"{url}decline/", {"note": "No"}, format="json"), 409, "conflict")
    assert_error(
        manager.post(f"{url}approve/", {"colour": "red"}, format="json"), 400, "validation_error"
    )
    rows = results(poc.get("/api/v1/after-hours-requests/", {"status": "approved"}))
    assert [row["id"] for row in rows] == [body["id"]]
    assert results(poc.get("/api/v1/after-hours-requests/", {"status": "pending"})) == []


def test_deputy_declines_with_a_note(world):
    engagement = world.a.objects["engagement"]
    starts, ends = saturday_window()
    pending = AfterHoursRequest.objects.create(
        engagement=engagement, requested_by=world.a.poc, starts_at=starts, ends_at=ends, reason="x"
    )
    response = signed_in(engagement.deputy).post(
        f"/api/v1/after-hours-requests/{pending.pk}/decline/",
        {"note": "Nobody available"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "declined"


def test_after_hours_rules(world):
    engagement = world.a.objects["engagement"]
    starts, ends = saturday_window()
    payload = after_hours_payload(engagement, starts, ends)
    # Only named contacts of the engagement may ask.
    for user in (world.a.member, world.manager, world.admin):
        assert_error(
            signed_in(user).post("/api/v1/after-hours-requests/", payload, format="json"),
            403,
            "permission_denied",
        )
    poc = signed_in(world.a.poc)
    soon = timezone.now() + timedelta(hours=2)
    body = assert_error(
        poc.post(
            "/api/v1/after-hours-requests/",
            after_hours_payload(engagement, soon, soon + timedelta(hours=2)),
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "starts_at" in body["fields"] and "business days" in body["fields"]["starts_at"][0]
    body = assert_error(
        poc.post(
            "/api/v1/after-hours-requests/",
            after_hours_payload(engagement, starts, starts + timedelta(hours=30)),
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "ends_at" in body["fields"]
    body = assert_error(
        poc.post(
            "/api/v1/after-hours-requests/",
            after_hours_payload(world.b.objects["engagement"], starts, ends),
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "engagement" in body["fields"]
    assert not AfterHoursRequest.objects.exists()


# --- Time entries ----------------------------------------------------------------------------


def time_payload(target, **changes):
    return {
        "engagement": target.pk,
        "date": str(target.local_today()),
        "minutes": 90,
        "activity": "call",
        "note": "Weekly call",
        **changes,
    }


def test_manager_logs_and_removes_time(world):
    engagement = world.a.objects["engagement"]
    client = signed_in(world.manager)
    response = client.post("/api/v1/time-entries/", time_payload(engagement), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["manager"] == world.manager.pk and body["minutes"] == 90
    entry = TimeEntry.objects.get(pk=body["id"])
    deputy = signed_in(engagement.deputy)
    response = deputy.post("/api/v1/time-entries/", time_payload(engagement), format="json")
    assert response.status_code == 201, response.content
    assert_error(deputy.delete(f"/api/v1/time-entries/{entry.pk}/"), 403, "permission_denied")
    assert client.delete(f"/api/v1/time-entries/{entry.pk}/").status_code == 204
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()


def test_time_entry_refusals(world):
    engagement = world.a.objects["engagement"]
    # A manager who does not serve the engagement cannot see it: refused like a missing one.
    other = signed_in(world.other_manager)
    foreign = assert_error(
        other.post("/api/v1/time-entries/", time_payload(engagement), format="json"),
        400,
        "validation_error",
    )
    missing = other.post(
        "/api/v1/time-entries/", time_payload(engagement, engagement=MISSING), format="json"
    ).json()
    assert foreign["fields"]["engagement"] == [
        message.replace(str(MISSING), str(engagement.pk))
        for message in missing["fields"]["engagement"]
    ]
    client = signed_in(world.manager)
    assert_error(
        client.post(
            "/api/v1/time-entries/",
            time_payload(engagement, manager=engagement.deputy_id),
            format="json",
        ),
        403,
        "permission_denied",
    )
    for changes, field in (
        ({"minutes": 0}, "minutes"),
        ({"minutes": 2000}, "minutes"),
        ({"activity": "golf"}, "activity"),
        ({"date": str(engagement.local_today() + timedelta(days=5))}, "date"),
    ):
        body = assert_error(
            client.post(
                "/api/v1/time-entries/", time_payload(engagement, **changes), format="json"
            ),
            400,
            "validation_error",
        )
        assert field in body["fields"], body
    assert_error(
        signed_in(world.a.poc).post(
            "/api/v1/time-entries/", time_payload(engagement), format="json"
        ),
        403,
        "permission_denied",
    )
    assert not TimeEntry.objects.exists()


def test_admin_logs_time_for_a_manager(world):
    engagement = world.a.objects["engagement"]
    response = signed_in(world.admin).post(
        "/api/v1/time-entries/", time_payload(engagement, manager=world.manager.pk), format="json"
    )
    assert response.status_code == 201, response.content
    assert TimeEntry.objects.get().manager == world.manager


def test_customers_read_time_on_their_engagements_and_filter_it(world):
    a, b = world.a.objects["engagement"], world.b.objects["engagement"]
    early = TimeEntry.objects.create(
        engagement=a, manager=a.manager, date=date(2026, 3, 2), minutes=30, activity="call"
    )
    late = TimeEntry.objects.create(
        engagement=a, manager=a.deputy, date=date(2026, 3, 20), minutes=60, activity="report"
    )
    TimeEntry.objects.create(
        engagement=b, manager=b.manager, date=date(2026, 3, 2), minutes=30, activity="call"
    )
    client = signed_in(world.a.member)

    def ids(**params):
        return [row["id"] for row in results(client.get("/api/v1/time-entries/", params))]

    assert ids() == [late.pk, early.pk]
    assert ids(date_after="2026-03-10") == [late.pk]
    assert ids(date_before="2026-03-02") == [early.pk]
    assert ids(date_after="2026-03-01", date_before="2026-03-31") == [late.pk, early.pk]
    assert ids(activity="report") == [late.pk]
    assert ids(manager=a.manager_id) == [early.pk]
    assert ids(engagement=a.pk) == [late.pk, early.pk]
    assert_error(client.get("/api/v1/time-entries/", {"engagement": b.pk}), 400, "validation_error")
    assert_error(client.delete(f"/api/v1/time-entries/{early.pk}/"), 403, "permission_denied")


# --- Hours -------------------------------------------------------------------------------------


def test_hours_endpoint_reports_this_week_the_trailing_weeks_and_the_flag(world):
    engagement = world.a.objects["engagement"]
    today = engagement.local_today()
    monday = week_start(today)
    weekly = [700, 800, 0, 1000]  # oldest first: averages 625 minutes against a 600 cap
    for weeks_back, minutes in zip((4, 3, 2, 1), weekly, strict=True):
        if minutes:
            TimeEntry.objects.create(
                engagement=engagement,
                manager=engagement.manager,
                date=monday - timedelta(weeks=weeks_back) + timedelta(days=2),
                minutes=minutes,
                activity="case",
            )
    TimeEntry.objects.create(
        engagement=engagement, manager=engagement.manager, date=monday, minutes=45, activity="call"
    )
    TimeEntry.objects.create(  # before the window: not counted
        engagement=engagement,
        manager=engagement.manager,
        date=monday - timedelta(weeks=5),
        minutes=999,
        activity="call",
    )
    flag = services.overage_evaluate(engagement=engagement)
    assert flag is not None
    url = f"/api/v1/engagements/{engagement.pk}/hours/"
    body = signed_in(world.manager).get(url).json()
    assert body["week_start"] == str(monday)
    assert body["this_week_minutes"] == 45
    assert body["trailing_weeks"] == [
        {"week_start": str(monday - timedelta(weeks=n)), "minutes": minutes}
        for n, minutes in zip((4, 3, 2, 1), weekly, strict=True)
    ]
    assert body["average_minutes"] == 625 and body["cap_minutes"] == 600
    assert body["over_cap"] is True
    assert body["overage_flag"]["id"] == flag.pk
    assert body["overage_flag"]["average_minutes"] == 625
    customer = signed_in(world.a.poc).get(url).json()
    assert customer["average_minutes"] == 625 and customer["overage_flag"] is None
    assert_error(
        signed_in(world.a.poc).get(
            f"/api/v1/engagements/{world.b.objects['engagement'].pk}/hours/"
        ),
        404,
        "not_found",
    )
    empty = signed_in(world.other_manager).get(
        f"/api/v1/engagements/{world.b.objects['engagement'].pk}/hours/"
    )
    assert empty.json()["over_cap"] is False and empty.json()["overage_flag"] is None


# --- Query budgets: every list costs the same for 3 rows as for 30 ------------------------------


def add_plans(world, count):
    functions = list(ServiceFunction.objects.all()[:3])
    start = Plan.objects.count()
    for n in range(start, start + count):
        new = Plan.objects.create(
            code=f"extra-{n}", name=f"Extra {n}", deployment="saas", pricing="add_on", position=n
        )
        for function in functions:
            Entitlement.objects.create(plan=new, function=function)
            Cadence.objects.create(
                plan=new, deliverable=function, methods=["email"], frequency="monthly"
            )


def add_functions(world, count):
    start = ServiceFunction.objects.count()
    for n in range(start, start + count):
        ServiceFunction.objects.create(code=f"extra-{n}", name=f"Extra {n}", position=n)


def add_engagements(world, count):
    for _ in range(count):
        EngagementFactory(organization=world.a.organization, manager=world.manager)


def add_contacts(world, count):
    engagement = world.a.objects["engagement"]
    for _ in range(count):
        user = MembershipFactory(organization=world.a.organization).user
        Contact.objects.create(engagement=engagement, user=user, added_by=world.admin)


def add_absences(world, count):
    start = Absence.objects.count()
    managers = [world.manager, world.a.objects["engagement"].deputy]
    for n in range(start, start + count):
        starts = datetime(2027, 1, 1, tzinfo=BERLIN) + timedelta(days=n)
        Absence.objects.create(
            manager=managers[n % 2],
            kind="training",
            starts_at=starts,
            ends_at=starts + timedelta(hours=8),
        )


def add_after_hours(world, count):
    engagement = world.a.objects["engagement"]
    starts, _ends = saturday_window()
    for n in range(count):
        AfterHoursRequest.objects.create(
            engagement=engagement,
            requested_by=world.a.poc,
            starts_at=starts + timedelta(weeks=n),
            ends_at=starts + timedelta(weeks=n, hours=2),
            reason="Cutover",
        )


def add_time_entries(world, count):
    engagement = world.a.objects["engagement"]
    for n in range(count):
        TimeEntry.objects.create(
            engagement=engagement,
            manager=world.manager,
            date=date(2026, 3, 1) + timedelta(days=n),
            minutes=15,
            activity="case",
        )


LISTS = [
    ("/api/v1/plans/", "poc", add_plans),
    ("/api/v1/service-functions/", "poc", add_functions),
    ("/api/v1/engagements/", "admin", add_engagements),
    ("/api/v1/engagements/", "manager", add_engagements),
    ("/api/v1/engagements/", "poc", add_engagements),
    ("contacts", "poc", add_contacts),
    ("/api/v1/absences/", "poc", add_absences),
    ("/api/v1/absences/", "manager", add_absences),
    ("/api/v1/after-hours-requests/", "poc", add_after_hours),
    ("/api/v1/time-entries/", "poc", add_time_entries),
    ("/api/v1/time-entries/", "manager", add_time_entries),
]


def rows_of(response) -> int:
    body = response.json()
    return len(body["results"] if isinstance(body, dict) else body)


@pytest.mark.parametrize(("url", "role", "add_rows"), LISTS)
def test_list_queries_do_not_grow_with_rows(world, url, role, add_rows):
    """Lists that already hold more than 3 rows (the 15 seeded functions) start from those."""
    if url == "contacts":
        url = contacts_url(world.a.objects["engagement"])
    client = signed_in(world.user(role))
    add_rows(world, max(0, 3 - rows_of(client.get(url))))  # also warms up session and caches
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    few_rows = rows_of(response)
    add_rows(world, 27)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert rows_of(response) == few_rows + 27 >= 30
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)


def test_read_only_token_cannot_write(world):
    from portal.accounts.services import api_token_create

    _token, plain = api_token_create(user=world.manager, name="r", scopes=["read"])
    client = signed_in(world.manager)
    client.logout()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    engagement = world.a.objects["engagement"]
    assert client.get("/api/v1/time-entries/").status_code == 200
    assert_error(
        client.post("/api/v1/time-entries/", time_payload(engagement), format="json"),
        403,
        "permission_denied",
    )


@pytest.mark.parametrize("missing", ["timezone", "holiday_country"])
def test_a_new_engagement_names_its_time_zone_and_holiday_calendar(world, missing):
    """No silent UTC and no silent "no holidays": both are required when it is created."""
    payload = engagement_payload(world)
    del payload[missing]
    before = Engagement.objects.count()
    body = assert_error(
        signed_in(world.admin).post("/api/v1/engagements/", payload, format="json"),
        400,
        "validation_error",
    )
    assert missing in body["fields"]
    blank = assert_error(
        signed_in(world.admin).post(
            "/api/v1/engagements/", engagement_payload(world, **{missing: ""}), format="json"
        ),
        400,
        "validation_error",
    )
    assert missing in blank["fields"]
    assert Engagement.objects.count() == before


def test_the_service_requires_zone_and_calendar_and_keeps_the_calendar(world):
    from engagements.contracts import services as contracts_services
    from portal.errors import InvalidInput

    with pytest.raises(InvalidInput) as excinfo:
        contracts_services.engagement_create(
            acting_user=world.admin,
            organization=world.a.organization,
            plan=world.a.objects["engagement"].plan,
            manager=world.manager,
            start_date=date(2026, 1, 1),
            end_date=date(2026, 12, 31),
        )
    assert set(excinfo.value.fields) == {"timezone", "holiday_country"}
    with pytest.raises(InvalidInput) as excinfo:
        contracts_services.engagement_update(
            acting_user=world.admin,
            engagement=world.a.objects["engagement"],
            holiday_country="",
        )
    assert "holiday_country" in excinfo.value.fields
