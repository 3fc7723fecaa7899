"""`portal.formats.LocalDates` (issue 17): the same text as the template filters it replaces."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.template import engines
from django.utils import timezone, translation

from portal.formats import LocalDates

NAMED = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "MONTH_DAY_FORMAT",
    "YEAR_MONTH_FORMAT",
    "TIME_FORMAT",
]
EXTRA = {"DAY_TIME_FORMAT": "day_time", "WEEKDAY_TIME_FORMAT": "weekday_time"}


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("zone", ["Asia/Seoul", "America/New_York"])
def test_local_dates_match_the_date_filters(language, zone):
    source = "|".join(
        [*(f'{{{{ v|date:"{name}" }}}}' for name in NAMED)]
        + [f"{{{{ v|{name} }}}}" for name in EXTRA.values()]
        + ["{{ d|weekday_date }}", '{{ d|date:"DATE_FORMAT" }}']
    )
    template = engines["django"].from_string(source)
    start = datetime(2026, 1, 1, 0, 5, tzinfo=zoneinfo.ZoneInfo("UTC"))
    # every month and weekday, hours around midnight and the zones' daylight-saving changes
    moments = [start + timedelta(days=day * 5, hours=day * 7, minutes=day) for day in range(80)]
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        dates = LocalDates()
        for moment in moments:
            day = timezone.localtime(moment).date()
            ours = "|".join(
                [dates.format(moment, name) for name in [*NAMED, *EXTRA]]
                + [dates.format(day, "WEEKDAY_DATE_FORMAT"), dates.format(day, "DATE_FORMAT")]
            )
            assert ours == template.render({"v": moment, "d": day})


def test_local_dates_use_the_active_language_and_zone():
    moment = datetime(2026, 12, 4, 5, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))
    with translation.override("ko"), timezone.override(zoneinfo.ZoneInfo("Asia/Seoul")):
        assert LocalDates().format(moment, "DAY_TIME_FORMAT") == "12월 4일 (금) 14:30"
        assert LocalDates().format(None, "DATETIME_FORMAT") == ""
    with translation.override("en"), timezone.override(zoneinfo.ZoneInfo("Europe/London")):
        assert LocalDates().format(moment, "DAY_TIME_FORMAT") == "Fri 4 Dec, 05:30"
        assert LocalDates().format(date(2026, 12, 4), "DATE_FORMAT") == "Fri 4 Dec 2026"


@pytest.mark.parametrize("language", ["en", "ko"])
def test_durations_match_timesince_and_timeuntil(language):
    """`Durations` (the board's "overdue by …", "… left") says what Django's functions say:
    minutes to years, across month ends, and nothing for a moment already past."""
    from django.utils.timesince import timesince, timeuntil

    from portal.formats import Durations

    now = datetime(2026, 3, 31, 9, 30, 15, tzinfo=zoneinfo.ZoneInfo("UTC"))
    steps = [0, 59, 60, 61, 3599, 3600, 7261, 86399, 86400, 90061, 7 * 86400, 8 * 86400 + 3600]
    steps += [day * 86400 + day * 97 for day in (13, 27, 28, 29, 30, 31, 45, 59, 61, 365, 400)]
    with translation.override(language):
        durations = Durations()
        for _round in range(2):  # the second round reads the translated words kept by the first
            for seconds in steps:
                past, future = now - timedelta(seconds=seconds), now + timedelta(seconds=seconds)
                assert durations.since(past, now) == timesince(past, now), seconds
                assert durations.until(future, now) == timeuntil(future, now), seconds
                assert durations.since(future, now) == timesince(future, now), seconds
    assert (
        Durations().since(now - timedelta(seconds=7261), now).replace("\xa0", " ")
        == "2 hours, 1 minute"
    )
