"""Dates read in the viewer's language: the named formats of portal/formats ("2026년 12월 4일 (금)
14:30" in Korean, "Fri 4 Dec 2026, 14:30" in English), never a pattern written into a template."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from cases.casework.models import Case
from reviews.scheduling.models import Occurrence
from tests.conftest import page_client

MOMENT = datetime(2026, 12, 4, 14, 30, tzinfo=UTC)  # a Friday
NAMED = {
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
    "TIME_FORMAT",
}
MONTHS = r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b"
WEEKDAYS = r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b"
# date_format(<value, with at most one level of parentheses>, "<pattern>"
CALL_WITH_PATTERN = r"date_format\([^()]*(?:\([^()]*\)[^()]*)*,\s*[\"']([^\"']+)"
KOREAN_MOMENT = r"\d{4}년 \d{1,2}월 \d{1,2}일 \([월화수목금토일]\) \d\d:\d\d"


def assert_reads_as_korean(body: str) -> None:
    """No English month or weekday abbreviation and no day-before-month artefact ("4 12월")."""
    text = re.sub(r"<(script|style)\b.*?</\1>", "", body, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)  # attributes (datetime="2026-12-04T…") are machine dates
    assert not re.search(MONTHS, text), re.search(MONTHS, text)
    assert not re.search(WEEKDAYS, text), re.search(WEEKDAYS, text)
    assert not re.search(r"\b\d{1,2} \d{1,2}월", text)
    assert not re.search(r"요일 \d", text)


@pytest.mark.parametrize(
    ("language", "name", "expected"),
    [
        ("ko", "DATETIME_FORMAT", "2026년 12월 4일 (금) 14:30"),
        ("ko", "DATE_FORMAT", "2026년 12월 4일 (금)"),
        ("ko", "SHORT_DATE_FORMAT", "2026년 12월 4일"),
        ("ko", "SHORT_DATETIME_FORMAT", "2026년 12월 4일 14:30"),
        ("ko", "YEAR_MONTH_FORMAT", "2026년 12월"),
        ("ko", "MONTH_DAY_FORMAT", "12월 4일"),
        ("en", "DATETIME_FORMAT", "Fri 4 Dec 2026, 14:30"),
        ("en", "DATE_FORMAT", "Fri 4 Dec 2026"),
        ("en", "SHORT_DATE_FORMAT", "4 Dec 2026"),
        ("en", "SHORT_DATETIME_FORMAT", "4 Dec 2026, 14:30"),
        ("en", "YEAR_MONTH_FORMAT", "December 2026"),
        ("en", "MONTH_DAY_FORMAT", "4 Dec"),
    ],
)
def test_the_named_formats_per_language(language, name, expected):
    with translation.override(language), timezone.override(UTC):
        assert date_format(timezone.localtime(MOMENT), name) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ko", "12월 4일 (금) 14:30 | (금) 14:30 | 12월 4일 (금)"),
        ("en", "Fri 4 Dec, 14:30 | Fri 14:30 | Fri 4 Dec"),
    ],
)
def test_the_filters_for_moments_without_a_year(language, expected):
    template = engines["django"].from_string(
        "{{ at|day_time }} | {{ at|weekday_time }} | {{ day|weekday_date }}"
    )
    with translation.override(language), timezone.override(UTC):
        assert template.render({"at": MOMENT, "day": date(2026, 12, 4)}) == expected


def test_no_template_writes_its_own_date_pattern():
    """A literal pattern ("D j M Y") reads "금 4 12월 2026" in Korean: use the named formats."""
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*"):
        if path.suffix not in {".html", ".txt"}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for pattern in re.findall(r"\|(?:date|time):[\"']([^\"']*)[\"']", line):
                if pattern not in NAMED and pattern != "c":  # "c": ISO 8601 for <time datetime>
                    offenders.append(f"{path.relative_to(settings.BASE_DIR)}:{number}: {pattern}")
    assert offenders == []


def test_no_python_formats_a_date_with_a_literal_pattern():
    offenders = []
    for app in ("portal", "engagements", "cases", "reviews"):
        for path in Path(settings.BASE_DIR, app).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for pattern in re.findall(CALL_WITH_PATTERN, text):
                if pattern not in NAMED:
                    offenders.append(f"{path.relative_to(settings.BASE_DIR)}: {pattern}")
    assert offenders == []


@pytest.mark.django_db
def test_key_pages_read_their_dates_in_korean(world):
    engagement = world.a.objects["engagement"]
    now = timezone.now()
    case = Case.objects.create(
        engagement=engagement,
        kind=Case.Kind.INQUIRY,
        severity=Case.Severity.HIGH,
        subject="Login fails",
        received_at=now - timedelta(hours=2),
        reminder_due_at=now + timedelta(hours=4),
        response_due_at=now + timedelta(hours=6),
        raised_by=world.a.poc,
    )
    Occurrence.objects.create(
        engagement=engagement,
        deliverable="weekly_call",
        period="test:korean",
        scheduled_start=now + timedelta(days=3),
        method="video",
        status="scheduled",
    )
    for user in (world.a.poc, world.manager):
        user.language = "ko"
        user.save()
    pages = {
        "dashboard (customer)": (world.a.poc, reverse("dashboard")),
        "board (manager)": (world.manager, reverse("dashboard")),
        "case detail": (world.a.poc, reverse("case_detail", args=[case.pk])),
        "case list": (world.manager, reverse("case_list")),
        "session list": (world.a.poc, reverse("occurrence_list")),
    }
    for name, (user, url) in pages.items():
        response = page_client(user).get(url, follow=True)
        assert response.status_code == 200, name
        body = response.content.decode()
        assert_reads_as_korean(body)
        if name in {"case detail", "session list"}:
            assert re.search(KOREAN_MOMENT, body), name


@pytest.mark.django_db
def test_the_case_detail_keeps_its_english_dates(world):
    engagement = world.a.objects["engagement"]
    case = Case.objects.create(
        engagement=engagement,
        kind=Case.Kind.INQUIRY,
        severity=Case.Severity.HIGH,
        subject="Login fails",
        received_at=timezone.now(),
        reminder_due_at=timezone.now() + timedelta(hours=4),
        response_due_at=timezone.now() + timedelta(hours=6),
        raised_by=world.a.poc,
    )
    body = page_client(world.a.poc).get(reverse("case_detail", args=[case.pk])).content.decode()
    assert re.search(WEEKDAYS + r" \d{1,2} " + MONTHS + r" \d{4}, \d\d:\d\d", body)
