"""The audit trail in words (portal.audit_words): every known action reads as a sentence in
English and Korean, the changed fields as "label: old → new" with formatted values; the audit
page and the API filter by who, what, when and kind, and stay at a constant query count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from cases.casework import services as case_services
from engagements.catalog import services as catalog_services
from engagements.catalog.models import Entitlement, Plan, ServiceFunction
from portal.accounts import services as account_services
from portal.audit import AuditEntry
from portal.audit_words import REGISTRY, describe
from tests.conftest import page_client, signed_in
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db
HANGUL = re.compile("[가-힣]")


def summary(entry: AuditEntry, language: str = "en") -> str:
    entry = AuditEntry.objects.select_related("actor").get(pk=entry.pk)
    with translation.override(language):
        return describe([entry])[0].summary


def described(entry: AuditEntry, language: str = "en"):
    entry = AuditEntry.objects.select_related("actor").get(pk=entry.pk)
    with translation.override(language):
        return describe([entry])[0]


@pytest.mark.parametrize("action", sorted(REGISTRY))
def test_every_known_action_reads_as_words_in_english_and_korean(world, action):
    entry = AuditEntry.objects.create(
        actor=world.admin,
        action=action,
        object_type="engagements.plan",
        object_id="1",
        object_repr="Thing",
        before={"entitlements": ["maintenance"]},
        after={"entitlements": ["escalation_management"], "assignee": world.manager.pk},
    )
    english, korean = summary(entry, "en"), summary(entry, "ko")
    for text in (english, korean):
        assert world.admin.name in text
        assert action not in text and "%(" not in text and "{" not in text
    assert not HANGUL.search(english)
    assert HANGUL.search(korean) and f"{world.admin.name} 님" in korean


def test_an_unknown_action_still_reads_as_words(world):
    entry = AuditEntry.objects.create(
        actor=None,
        action="gadget.frobnicate",
        object_type="engagements.plan",
        object_id="7",
        object_repr="Gizmo",
        before={"name": "Old"},
        after={"name": "New"},
    )
    assert summary(entry) == "The system changed plan Gizmo"
    assert summary(entry, "ko") == "시스템이 플랜 Gizmo을(를) 변경했습니다"


def test_a_matrix_edit_names_the_plan_and_the_functions_gained_and_lost(world):
    premium = Plan.objects.get(code="premium")
    escalation = ServiceFunction.objects.get(code="escalation_management")
    maintenance = ServiceFunction.objects.get(code="maintenance")
    cells = set(Entitlement.objects.values_list("plan_id", "function_id"))
    cells.discard((premium.pk, escalation.pk))
    cells.discard((premium.pk, maintenance.pk))
    catalog_services.entitlement_matrix_set(acting_user=world.admin, cells=cells)
    cells |= {(premium.pk, escalation.pk)}
    catalog_services.entitlement_matrix_set(acting_user=world.admin, cells=cells)
    entry = AuditEntry.objects.filter(action="plan.entitlements").first()
    assert summary(entry) == f"Ada Admin changed {premium.name}: {escalation.name} ✓"
    assert summary(entry, "ko") == (
        f"Ada Admin 님이 {premium.name}의 서비스 기능을 변경했습니다: {escalation.name_ko} ✓"
    )
    removal = AuditEntry.objects.filter(action="plan.entitlements").last()
    assert f"{maintenance.name} ✗" in summary(removal)


def test_plan_settings_changes_list_labels_and_formatted_values(world):
    plan = Plan.objects.get(code="standard")
    catalog_services.plan_save(
        acting_user=world.admin, plan=plan, max_contacts=5, weekly_call=not plan.weekly_call
    )
    item = described(AuditEntry.objects.get(action="plan.update"))
    assert item.summary == f"Ada Admin changed the settings of the plan {plan.name}"
    changes = {change.label: (change.old, change.new) for change in item.changes}
    assert changes["Maximum named contacts"] == ("3", "5")
    assert set(changes["Weekly call"]) == {"✓", "✗"}
    korean = described(AuditEntry.objects.get(action="plan.update"), "ko")
    assert korean.summary == f"Ada Admin 님이 플랜 {plan.name}의 설정을 변경했습니다"


def test_assignment_and_status_read_with_names_and_labels(world):
    engagement = world.a.objects["engagement"]
    case = case_services.case_raise(
        acting_user=world.a.poc, engagement=engagement, kind="incident", severity=2, subject="Down"
    )
    case_services.case_assign(acting_user=world.admin, case=case, assignee=None)
    case_services.case_assign(acting_user=world.admin, case=case, assignee=world.manager)
    case_services.case_set_status(acting_user=world.manager, case=case, status="in_progress")
    unassign, assign = AuditEntry.objects.filter(action="case.assign").order_by("id")
    assert summary(assign) == f"Ada Admin assigned case #{case.pk} to Max Manager"
    assert (
        summary(assign, "ko")
        == f"Ada Admin 님이 케이스 #{case.pk}의 담당자로 Max Manager 님을 지정했습니다"
    )
    assert summary(unassign) == f"Ada Admin put case #{case.pk} in the provider queue"
    status = AuditEntry.objects.get(action="case.status")
    assert summary(status) == f"Max Manager set case #{case.pk} to In progress"
    assert summary(status, "ko").startswith(f"Max Manager 님이 케이스 #{case.pk}의 상태를")
    changes = {change.label: change for change in described(assign).changes}
    assert changes["Assignee"].new == "Max Manager"
    raised = described(AuditEntry.objects.get(action="case.raise"))
    assert raised.summary == f"Poc A raised case #{case.pk}"
    # dates in the named format, never ISO
    escalate = AuditEntry.objects.create(
        actor=world.admin,
        action="case.escalate",
        object_type="cases.case",
        object_id=str(case.pk),
        before={"escalated_at": None},
        after={"escalated_at": "2026-12-04T14:30:00+00:00"},
    )
    with timezone.override("UTC"):
        (change,) = described(escalate).changes
    assert (change.old, change.new) == ("—", "4 Dec 2026, 14:30")
    with timezone.override("Asia/Seoul"), translation.override("ko"):
        entry = AuditEntry.objects.select_related("actor").get(pk=escalate.pk)
        (change,) = describe([entry])[0].changes
    assert change.new == "2026년 12월 4일 23:30"


def test_the_page_shows_words_and_leaves_personal_preferences_out_by_default(world):
    plan = Plan.objects.get(code="standard")
    catalog_services.plan_save(acting_user=world.admin, plan=plan, max_contacts=4)
    account_services.user_update(acting_user=world.a.poc, user=world.a.poc, language="ko")
    client = page_client(world.admin)
    page = client.get(reverse("audit_log")).content.decode()
    assert f"Ada Admin changed the settings of the plan {plan.name}" in page
    assert "Maximum named contacts" in page and "plan.update" not in page
    assert "changed their preferences" not in page
    personal = client.get(reverse("audit_log"), {"kind": "personal"}).content.decode()
    assert "Poc A changed their preferences" in personal
    assert plan.name not in personal.split("audit-entries", 1)[1]
    everything = client.get(reverse("audit_log"), {"kind": "all"}).content.decode()
    assert "Poc A changed their preferences" in everything and plan.name in everything


def test_the_page_filters_by_who_what_and_when_and_keeps_them_in_the_pager(world):
    plan = Plan.objects.get(code="standard")
    catalog_services.plan_save(acting_user=world.admin, plan=plan, max_contacts=4)
    other = ManagerFactory(name="Joon Kim")
    for n in range(55):
        AuditEntry.objects.create(
            actor=other,
            action="risk.update",
            object_type="cases.risk",
            object_id=str(n),
            object_repr=f"Risk {n}",
        )
    old = AuditEntry.objects.create(
        actor=other,
        action="risk.update",
        object_type="cases.risk",
        object_id="999",
        object_repr="Ancient risk",
    )
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))
    client = page_client(world.admin)

    by_joon = client.get(reverse("audit_log"), {"actor": other.pk}).content.decode()
    assert "Joon Kim changed the risk" in by_joon and plan.name not in by_joon.split("<ol", 1)[1]
    # the pager keeps the filters
    assert f"actor={other.pk}" in by_joon and "page=2" in by_joon
    page_two = client.get(reverse("audit_log"), {"actor": other.pk, "page": 2}).content.decode()
    assert "Joon Kim changed the risk" in page_two

    by_type = client.get(reverse("audit_log"), {"object_type": "engagements.plan"}).content
    assert plan.name in by_type.decode() and "Joon Kim" not in by_type.decode().split("<ol", 1)[1]
    by_object = client.get(
        reverse("audit_log"), {"object_type": "cases.risk", "object_id": "999"}
    ).content.decode()
    assert "Ancient risk" in by_object and "Risk 1<" not in by_object
    # each entry links to the history of its object
    assert "?kind=all&amp;object_type=cases.risk&amp;object_id=999" in by_object

    today = timezone.localdate()
    recent = client.get(
        reverse("audit_log"), {"date_from": (today - timedelta(days=7)).isoformat()}
    ).content.decode()
    assert "Ancient risk" not in recent and "Risk 3" in recent
    old_only = client.get(
        reverse("audit_log"), {"date_to": (today - timedelta(days=30)).isoformat()}
    ).content.decode()
    assert "Ancient risk" in old_only and "Risk 3" not in old_only
    bad = client.get(reverse("audit_log"), {"date_from": "yesterday"})
    assert bad.status_code == 200 and 'class="errorlist"' in bad.content.decode()


def test_the_api_has_the_same_filters_and_a_summary_in_the_callers_language(world):
    plan = Plan.objects.get(code="standard")
    catalog_services.plan_save(acting_user=world.admin, plan=plan, max_contacts=4)
    account_services.user_update(acting_user=world.a.poc, user=world.a.poc, language="ko")
    admin = signed_in(world.admin)
    rows = admin.get("/api/v1/audit-entries/", {"kind": "configuration"}).json()["results"]
    assert [row["action"] for row in rows if row["action"] == "plan.update"]
    assert all(row["kind"] == "configuration" for row in rows)
    plan_row = next(row for row in rows if row["action"] == "plan.update")
    assert plan_row["summary"] == f"Ada Admin changed the settings of the plan {plan.name}"
    personal = admin.get("/api/v1/audit-entries/", {"kind": "personal"}).json()["results"]
    assert [row["action"] for row in personal] == ["user.preferences"]
    today = timezone.localdate().isoformat()
    assert admin.get("/api/v1/audit-entries/", {"date_from": today}).json()["results"]
    assert not admin.get(
        "/api/v1/audit-entries/",
        {"date_to": (timezone.localdate() - timedelta(days=2)).isoformat()},
    ).json()["results"]
    for bad in ({"kind": "gossip"}, {"date_from": "soon"}, {"kind": ""}):
        response = admin.get("/api/v1/audit-entries/", bad)
        assert response.status_code == 400 and response.json()["code"] == "validation_error", bad
    world.admin.language = "ko"
    world.admin.save()
    korean = (
        signed_in(world.admin)
        .get("/api/v1/audit-entries/", {"action": "plan.update"})
        .json()["results"]
    )
    assert korean[0]["summary"] == f"Ada Admin 님이 플랜 {plan.name}의 설정을 변경했습니다"


def test_the_page_and_the_api_are_for_provider_admins_only(world):
    for user in (world.a.poc, world.a.member, world.manager):
        assert page_client(user).get(reverse("audit_log"), {"kind": "all"}).status_code == 403
        response = signed_in(user).get("/api/v1/audit-entries/", {"kind": "all"})
        assert response.status_code == 403


def _grow(count: int, actors: list) -> None:
    """Entries of every shape the page names things for: users, plans, engagements, cases."""
    plan = Plan.objects.first()
    for n in range(count):
        actor = actors[n % len(actors)]
        AuditEntry.objects.create(
            actor=actor,
            action="case.assign",
            object_type="cases.case",
            object_id=str(n),
            after={"assignee": actor.pk},
        )
        AuditEntry.objects.create(
            actor=actor,
            action="engagement.update",
            object_type="engagements.engagement",
            object_id=str(n),
            before={"plan": plan.pk, "manager": actor.pk},
            after={"plan": plan.pk, "manager": actors[0].pk},
        )
        AuditEntry.objects.create(
            actor=actor,
            action="plan.entitlements",
            object_type="engagements.plan",
            object_id=str(plan.pk),
            before={"entitlements": []},
            after={"entitlements": ["maintenance"]},
        )


def test_the_audit_page_issues_constant_queries(world):
    client = page_client(world.admin)

    def count(rows: int) -> int:
        AuditEntry.objects.all().delete()
        _grow(rows, [ManagerFactory() for _ in range(rows)])
        client.get(reverse("audit_log"))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("audit_log"))
        assert response.status_code == 200
        return len(queries)

    assert count(3) == count(16)
    admin = signed_in(world.admin)

    def api_count(rows: int) -> int:
        AuditEntry.objects.all().delete()
        _grow(rows, [ManagerFactory() for _ in range(rows)])
        admin.get("/api/v1/audit-entries/")  # warm
        with CaptureQueriesContext(connection) as queries:
            response = admin.get("/api/v1/audit-entries/", {"page_size": 100, "kind": "all"})
        assert len(response.json()["results"]) == rows * 3
        return len(queries)

    assert api_count(3) == api_count(16)
