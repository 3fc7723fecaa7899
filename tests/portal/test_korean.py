"""Korean that reads as Korean: the catalog's plans and functions named in both languages (pages,
the API, the calendar feed, e-mails, reports), notifications shown in the reader's current
language, e-mails in the recipient's, and a Korean catalog without empty, fuzzy or literal
entries."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from icalendar import Calendar

from cases.casework import services as case_services
from engagements.catalog.models import Plan, ServiceFunction, function_names
from portal.notifications import Notification, OutboxEmail, deliver_outbox, recipient_language
from reviews.feeds.services import calendar_feed_create
from reviews.scheduling.models import Occurrence
from reviews.scheduling.reminders import send_due_reminders
from tests.conftest import page_client, signed_in

pytestmark = pytest.mark.django_db
PO = Path(settings.BASE_DIR) / "locale" / "ko" / "LC_MESSAGES" / "django.po"


def korean(user) -> None:
    user.language = "ko"
    user.save(update_fields=["language"])


def occurrence(engagement, *, days: int = 5, deliverable: str = "service_review") -> Occurrence:
    start = timezone.now() + timedelta(days=days)
    return Occurrence.objects.create(
        engagement=engagement,
        deliverable=deliverable,
        period=f"monthly:{start.isoformat()}",
        scheduled_start=start,
        method="video",
    )


# --- The catalog in both languages --------------------------------------------------------------


def test_the_seeded_catalog_is_named_in_korean_from_the_vendors_text():
    names = dict(ServiceFunction.objects.values_list("code", "name_ko"))
    assert names["maintenance"] == "유지보수"
    assert names["service_review"] == "서비스 검토"
    assert names["case_management"] == "케이스 관리"  # not the seed's 사례 (a case study)
    assert all(names.values()), "every seeded function has a Korean name"
    assert Plan.objects.get(code="premium").name_ko == "SaaS 프리미엄 서비스 관리"
    with translation.override("ko"):
        assert str(Plan.objects.get(code="standard")) == "SaaS 표준 서비스 관리"
        assert function_names(["release_management"]) == {"release_management": "릴리스 관리"}
    with translation.override("en"):
        assert str(Plan.objects.get(code="standard")) == "SaaS Standard Service Management"


def test_the_demo_seed_fills_the_korean_names_of_a_re_seeded_catalog():
    from django.core.management import call_command

    ServiceFunction.objects.update(name_ko="", description_ko="")
    Plan.objects.update(name_ko="")
    call_command("seed_demo")
    assert not ServiceFunction.objects.filter(name_ko="").exists()
    assert not ServiceFunction.objects.filter(description_ko="").exists()
    assert Plan.objects.get(code="tsam").name_ko == "기술 지원 어카운트 매니저(TSAM)"


def test_a_name_without_korean_falls_back_to_english():
    function = ServiceFunction.objects.get(code="maintenance")
    function.name_ko = ""
    function.save()
    with translation.override("ko"):
        assert function.display_name == "Maintenance"


def test_the_engagement_page_names_plan_and_functions_in_the_readers_language(world):
    poc = world.a.poc
    url = reverse("engagement_detail", args=[world.a.objects["engagement"].pk])
    english = page_client(poc).get(url).content.decode()
    assert "SaaS Premium Service Management" in english and "Escalation management" in english
    assert "에스컬레이션 관리" not in english
    korean(poc)
    body = page_client(poc).get(url).content.decode()
    assert "SaaS 프리미엄 서비스 관리" in body
    assert "에스컬레이션 관리" in body and "서비스 검토" in body and "케이스 관리" in body
    assert "Escalation management" not in body and "SaaS Premium Service Management" not in body


@pytest.mark.parametrize("page", ["engagement_list", "weekly_board"])
def test_the_managers_lists_speak_korean(world, page):
    korean(world.manager)
    response = page_client(world.manager).get(reverse(page))
    assert response.status_code == 200
    body = response.content.decode()
    assert "SaaS 프리미엄 서비스 관리" in body
    assert "SaaS Premium Service Management" not in body


def test_admins_edit_both_names_on_the_catalog_pages(world):
    function = ServiceFunction.objects.get(code="environment_consulting")
    client = page_client(world.admin)
    url = reverse("catalog_function_edit", args=[function.pk])
    form = client.get(url).content.decode()
    assert 'name="name_ko"' in form and 'name="description_ko"' in form and "환경 컨설팅" in form
    response = client.post(
        url,
        {
            "name": "Environment consulting",
            "name_ko": "시스템 환경 컨설팅",
            "description": function.description,
            "description_ko": "성능을 보장하는 활동 조정",
        },
    )
    assert response.status_code == 302
    function.refresh_from_db()
    assert (function.name_ko, function.description_ko) == (
        "시스템 환경 컨설팅",
        "성능을 보장하는 활동 조정",
    )
    plan = Plan.objects.get(code="tsam")
    plan_url = reverse("catalog_plan_edit", args=[plan.pk])
    assert 'name="name_ko"' in client.get(plan_url).content.decode()
    korean(world.admin)
    in_korean = page_client(world.admin).get(plan_url).content.decode()
    assert "이름(한국어)" in in_korean and "기술 지원 어카운트 매니저(TSAM) 수정" in in_korean


def test_the_api_round_trips_both_names(world):
    client = signed_in(world.admin)
    created = client.post(
        "/api/v1/service-functions/",
        {
            "code": "health_check",
            "name": "Health check",
            "name_ko": "상태 점검",
            "description": "A yearly look at the installation.",
            "description_ko": "설치 환경을 매년 점검합니다.",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["name"], data["name_ko"]) == ("Health check", "상태 점검")
    assert data["description_ko"] == "설치 환경을 매년 점검합니다."
    changed = client.patch(
        f"/api/v1/service-functions/{data['id']}/", {"name_ko": "헬스 체크"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["name_ko"] == "헬스 체크" and changed.json()["name"] == "Health check"
    fetched = client.get(f"/api/v1/service-functions/{data['id']}/").json()
    assert (fetched["name"], fetched["name_ko"]) == ("Health check", "헬스 체크")

    plan = Plan.objects.get(code="standard")
    patched = client.patch(f"/api/v1/plans/{plan.pk}/", {"name_ko": "표준 플랜"}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["name"] == "SaaS Standard Service Management"
    assert patched.json()["name_ko"] == "표준 플랜"
    listed = {
        row["code"]: row for row in signed_in(world.a.poc).get("/api/v1/plans/").json()["results"]
    }
    assert listed["standard"]["name_ko"] == "표준 플랜"


def test_the_calendar_feed_of_a_korean_user_is_in_korean(world):
    engagement = world.a.objects["engagement"]
    review = occurrence(engagement)
    call = occurrence(engagement, days=6, deliverable="weekly_call")
    korean(world.a.poc)
    _feed, token = calendar_feed_create(acting_user=world.a.poc)
    response = Client().get(reverse("calendar_feed_ics", kwargs={"token": token}))
    assert response.status_code == 200
    summaries = {
        str(event["uid"]).split("@")[0]: str(event["summary"])
        for event in Calendar.from_ical(response.content).walk("VEVENT")
    }
    assert summaries[f"occurrence-{review.pk}"].startswith("서비스 검토: ")
    assert not summaries[f"occurrence-{call.pk}"].startswith("Weekly call")
    _feed, token = calendar_feed_create(acting_user=world.manager)  # English
    raw = Client().get(reverse("calendar_feed_ics", kwargs={"token": token})).content.decode()
    assert "SUMMARY:Service review: " in raw and "서비스 검토" not in raw


def test_the_report_names_the_plan_in_the_readers_language(world):
    from reviews.reports.figures import build_report
    from reviews.reports.views import present

    engagement = world.a.objects["engagement"]
    review = occurrence(engagement, days=-3)
    data = build_report(review, as_of=timezone.now())  # built (or frozen) in English
    with translation.override("ko"):
        assert present(data)["meta"]["plan"] == "SaaS 프리미엄 서비스 관리"
    with translation.override("en"):
        assert present(data)["meta"]["plan"] == "SaaS Premium Service Management"


# --- Notifications in the reader's language ---------------------------------------------------


def test_a_notification_sent_in_english_shows_in_korean_once_the_reader_switches(world):
    case_services.case_raise(
        acting_user=world.a.poc,
        engagement=world.a.objects["engagement"],
        kind="inquiry",
        severity=2,
        subject="Switching languages",
    )
    notification = Notification.objects.get(user=world.manager, kind="case.raised")
    assert notification.title.startswith("New inquiry")  # as sent (and e-mailed) in English
    client = page_client(world.manager)
    assert "New inquiry" in client.get(reverse("notifications")).content.decode()
    korean(world.manager)
    body = page_client(world.manager).get(reverse("notifications")).content.decode()
    assert "새 문의" in body and "Switching languages" in body
    assert "New inquiry" not in body


def test_e_mail_goes_in_the_recipients_own_language_counted_at_the_smtp_server(world, smtp_sink):
    engagement = world.a.objects["engagement"]  # English
    korean(world.a.poc)
    case = case_services.case_raise(
        acting_user=world.a.poc, engagement=engagement, kind="inquiry", severity=2, subject="Q1"
    )
    case_services.case_comment(acting_user=world.manager, case=case, body="Answer")
    OutboxEmail.objects.update(send_after=timezone.now() - timedelta(seconds=1))
    deliver_outbox()
    received = smtp_sink.subjects()
    # Case e-mails start with the case's [#id] (cases/mailin/outbound.py: replies find it).
    assert received[f"[#{case.pk}] #{case.pk}에 새 답변: Q1"] == 1  # the Korean PoC
    assert received[f"[#{case.pk}] New inquiry #{case.pk} (severity 2): Q1"] == 1  # English
    assert sum(received.values()) == len(smtp_sink.messages)


def test_a_review_reminder_names_the_deliverable_in_the_recipients_language(world, smtp_sink):
    engagement = world.a.objects["engagement"]
    korean(world.a.poc)
    review = occurrence(engagement, days=1)
    assert send_due_reminders(now=review.scheduled_start - timedelta(hours=20)) == 1
    OutboxEmail.objects.update(send_after=timezone.now() - timedelta(seconds=1))
    deliver_outbox()
    by_recipient = {m["To"]: m for m in smtp_sink.messages}
    from email.header import decode_header, make_header

    to_poc = str(make_header(decode_header(by_recipient[world.a.poc.email]["Subject"])))
    to_manager = str(make_header(decode_header(by_recipient[world.manager.email]["Subject"])))
    assert "서비스 검토" in to_poc and "Service review" not in to_poc
    assert "Service review" in to_manager
    assert "화상 회의" in by_recipient[world.a.poc.email].get_payload(decode=True).decode()


def test_recipient_language_prefers_the_persons_choice_then_the_engagements(world):
    engagement = world.a.objects["engagement"]
    engagement.language = "ko"
    assert recipient_language(world.a.poc, engagement) == "ko"  # kept the default: engagement's
    world.a.poc.language = "ko"
    engagement.language = "en"
    assert recipient_language(world.a.poc, engagement) == "ko"  # chose Korean
    world.manager.language = "en"
    engagement.language = "ko"
    assert recipient_language(world.manager, engagement) == "en"  # staff: their own


# --- Migrations ---------------------------------------------------------------------------------


def _migrate(*targets: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    executor.loader.build_graph()
    return executor.loader.project_state(list(targets)).apps


def _migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_data_migrations_fill_korean_names_and_keep_old_notifications_readable():
    from tests.factories import UserFactory

    reader = UserFactory(email="reader@example.test", language="ko")
    old = _migrate(
        ("engagements", "0008_catalog_korean_names"), ("portal", "0006_notification_texts")
    )
    try:
        Function = old.get_model("engagements", "ServiceFunction")
        Function.objects.update(name_ko="", description_ko="")
        old.get_model("engagements", "Plan").objects.update(name_ko="")
        Function.objects.filter(code="maintenance").update(name="Maintenance windows")
        Function.objects.filter(code="risk_mitigation").update(name_ko="리스크 완화")
        OldNotification = old.get_model("portal", "Notification")
        sent = OldNotification.objects.create(
            user_id=reader.pk, kind="test", title="알림", body="본문", dedupe_key="old:1"
        )
    finally:
        _migrate_to_latest()
    names = {f.code: f for f in ServiceFunction.objects.all()}
    assert names["service_review"].name_ko == "서비스 검토"
    assert names["service_review"].description_ko == "성능 트렌드 및 분석 제공"
    assert names["maintenance"].name_ko == ""  # renamed by an admin: their wording stays
    assert names["maintenance"].description_ko == "계획 수립 및 일정 관리"
    assert names["risk_mitigation"].name_ko == "리스크 완화"  # already given: kept
    assert Plan.objects.get(code="tsam").name_ko == "기술 지원 어카운트 매니저(TSAM)"
    notification = Notification.objects.get(pk=sent.pk)
    assert notification.texts == {"ko": ["알림", "본문"]}
    with translation.override("en"):
        assert notification.display_title == "알림"  # no other text exists: as it was sent


# --- The Korean catalog (.po) --------------------------------------------------------------------

FORBIDDEN = {
    "사례": "a case is 케이스 (사례 is a case study); only 사용 사례 (use case) is right",
    "항목 제기": 'raising an item is "케이스 등록"',
    "수행자:": '"by X" is "X 님"',
    "유지 보수": "maintenance is 유지보수",
    "콘택트": "a contact is 담당자",
}


def test_every_korean_entry_is_translated_not_fuzzy_and_free_of_literal_terms():
    catalog = polib.pofile(str(PO))
    problems = []
    for entry in catalog:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if not all(text.strip() for text in texts):
            problems.append(f"empty: {entry.msgid!r}")
        for text in texts:
            for term, why in FORBIDDEN.items():
                found = text.replace("사용 사례", "") if term == "사례" else text
                if term in found:
                    problems.append(f"{term} in {text!r} ({why})")
    assert problems == []


def test_korean_placeholders_match_the_english():
    catalog = polib.pofile(str(PO))
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    wrong = [
        entry.msgid
        for entry in catalog
        if not entry.obsolete
        and not entry.msgid_plural
        and sorted(placeholder.findall(entry.msgid)) != sorted(placeholder.findall(entry.msgstr))
    ]
    assert wrong == []


def test_time_spent_in_minutes_is_not_a_meetings_minutes():
    from engagements.time.models import TimeEntry

    with translation.override("ko"):
        assert str(TimeEntry._meta.get_field("minutes").verbose_name) == "시간(분)"
        assert str(Occurrence._meta.get_field("minutes").verbose_name) == "회의록"
