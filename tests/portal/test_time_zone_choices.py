"""Time-zone dropdowns offer the canonical IANA region/city zones (tzdata's zone.tab), UTC first,
grouped by area: they listed ~600 raw names, CST6CDT, Factory, US/Eastern and backward aliases
such as Asia/Calcutta among them. A value stored before stays valid and selectable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from engagements.contracts.forms import EngagementForm
from portal.accounts.forms import PreferencesForm, StaffPersonForm
from portal.accounts.models import TIME_ZONE_CHOICES, time_zone_choices, validate_time_zone
from portal.tenancy.forms import CustomerPersonForm


def flat(choices) -> list[str]:
    names = []
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            names += [name for name, _city in label]
        elif value:
            names.append(value)
    return names


LEGACY = ["CST6CDT", "Factory", "US/Eastern", "Etc/GMT+5", "GMT0", "Asia/Calcutta", "Europe/Kiev"]


def test_only_canonical_region_city_zones_utc_first():
    names = flat(TIME_ZONE_CHOICES)
    assert names[0] == "UTC"
    assert "Asia/Seoul" in names and "America/Argentina/Buenos_Aires" in names
    assert "Asia/Kolkata" in names and "Europe/Kyiv" in names
    for legacy in LEGACY:
        assert legacy not in names, legacy
    assert all("/" in name for name in names[1:])
    assert len(names) == len(set(names)) and 300 < len(names) < 450


def test_grouped_by_area_sorted_with_readable_city_names():
    groups = TIME_ZONE_CHOICES[1:]
    areas = [str(area) for area, _cities in groups]
    assert areas[:3] == ["Africa", "America", "Antarctica"]
    for _area, cities in groups:
        assert [name for name, _label in cities] == sorted(name for name, _label in cities)
    america = dict(dict((str(a), c) for a, c in groups)["America"])
    assert america["America/Argentina/Buenos_Aires"] == "Argentina / Buenos Aires"
    with translation.override("ko"):
        assert str(groups[0][0]) == "아프리카"


@pytest.mark.parametrize("form_class", [StaffPersonForm, PreferencesForm, EngagementForm])
def test_the_forms_offer_the_short_list(form_class):
    field = form_class.base_fields.get("time_zone") or form_class.base_fields["timezone"]
    names = flat(field.choices)
    assert "Asia/Seoul" in names and "CST6CDT" not in names and "Factory" not in names


def test_person_add_form_offers_the_short_list():
    names = flat(CustomerPersonForm.base_fields["time_zone"].choices)
    assert "Europe/Berlin" in names and "US/Pacific" not in names


def test_a_stored_legacy_value_stays_valid_and_selectable():
    validate_time_zone("Asia/Calcutta")  # stored before: still valid
    with pytest.raises(ValidationError):
        validate_time_zone("Factory")
    assert "Asia/Calcutta" in flat(time_zone_choices("Asia/Calcutta"))
    assert "Factory" not in flat(time_zone_choices("Factory"))


@pytest.mark.django_db
def test_preferences_keep_a_stored_legacy_zone(world):
    user = world.a.poc
    user.time_zone = "Asia/Calcutta"
    user.save(update_fields=["time_zone"])
    form = PreferencesForm(
        data={"name": user.name, "language": user.language, "time_zone": "Asia/Calcutta"},
        instance=user,
    )
    assert form.is_valid(), form.errors
    fresh = PreferencesForm(
        data={"name": user.name, "language": user.language, "time_zone": "Europe/Kiev"},
        instance=user,
    )
    assert not fresh.is_valid()  # a legacy name is not offered to anyone not already on it
