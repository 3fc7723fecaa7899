"""Engagements, the contracts between the vendor and a customer organization: forms."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Any, cast

import holidays as holidays_package
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.catalog.models import Plan
from engagements.contracts.models import WEEKDAYS, Engagement, default_business_hours
from portal.accounts.models import TIME_ZONE_CHOICES, User, time_zone_choices
from portal.forms import PortalForm, ScopedForm
from portal.tenancy.models import Organization

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def active_provider_staff() -> QuerySet[User]:
    """Who may manage or deputize an engagement, or be absent: active provider staff."""
    return User.objects.filter(
        Q(kind__in=[User.Kind.ADMIN, User.Kind.MANAGER]) | Q(is_superuser=True), is_active=True
    ).order_by("name", "email")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.name} <{obj.email}>" if obj.name else obj.email


@functools.cache
def holiday_country_choices() -> list[tuple[str, str]]:
    """Two-letter codes of the holidays package's calendars, with a readable country name."""
    names: dict[str, str] = {}
    try:
        from holidays.registry import COUNTRIES

        for key, entry in COUNTRIES.items():
            for code in entry[1:]:
                if len(code) == 2:
                    names[code] = key.replace("_", " ").title()
    except ImportError:  # the registry is not public API; fall back to bare codes
        pass
    codes = sorted(code for code in holidays_package.list_supported_countries() if len(code) == 2)
    return [(code, f"{code} · {names[code]}" if code in names else code) for code in codes]


class EngagementForm(ScopedForm):
    """An engagement's contract data and its weekly business hours (seven rows, Monday first)."""

    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.all()
    )
    plan = forms.ModelChoiceField(label=_("Plan"), queryset=Plan.objects.all())
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_("Optional; shown instead of “organization · plan”."),
    )
    start_date = forms.DateField(label=_("Start date"), widget=DATE_INPUT)
    end_date = forms.DateField(
        label=_("End date"),
        widget=DATE_INPUT,
        help_text=_("Usually co-terminous with the customer's support or subscription term."),
    )
    manager = StaffChoiceField(label=_("Service manager"), queryset=active_provider_staff())
    deputy = StaffChoiceField(
        label=_("Deputy"),
        queryset=active_provider_staff(),
        required=False,
        empty_label=_("No deputy"),
        help_text=_("Covers while the service manager is absent."),
    )
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=[("", _("Choose the contract's time zone")), *TIME_ZONE_CHOICES],
        help_text=_("The zone of the contract: business hours are in this zone."),
    )
    holiday_country = forms.ChoiceField(
        label=_("Holiday calendar"),
        help_text=_("Public holidays of this country are not business time."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=Engagement.Language.choices,
        initial=Engagement.Language.EN,
        help_text=_("The agreed language of communication and notifications."),
    )

    def __init__(self, *args: Any, engagement: Engagement | None = None, **kwargs: Any) -> None:
        if engagement is not None:
            kwargs.setdefault("initial", engagement_initial(engagement))
        else:
            today = timezone.localdate()
            kwargs.setdefault(
                "initial",
                {
                    "start_date": today,
                    "end_date": _one_year_later(today) - timedelta(days=1),
                    "business_hours": default_business_hours(),
                },
            )
        super().__init__(*args, **kwargs)
        self.engagement = engagement
        # Required, no default: UTC and no holidays would make the customer's public holidays
        # business time unless someone remembered to change them.
        cast(forms.ChoiceField, self.fields["holiday_country"]).choices = [
            ("", _("Choose the country whose public holidays apply")),
            *holiday_country_choices(),
        ]
        if engagement is not None:
            # A zone stored before the list was narrowed to canonical names stays selectable.
            cast(forms.ChoiceField, self.fields["timezone"]).choices = [
                ("", _("Choose the contract's time zone")),
                *time_zone_choices(engagement.timezone),
            ]
            del self.fields["organization"]  # an engagement never moves to another tenant
        else:
            organization = cast(forms.ModelChoiceField, self.fields["organization"])
            assert organization.queryset is not None  # the model form's field names one
            organization.queryset = organization.queryset.filter(is_active=True)
        hours = self.initial.get("business_hours") or default_business_hours()
        for index in range(7):
            day = hours[index] if index < len(hours) else None
            self.fields[f"opens_{index}"] = forms.TimeField(
                label=_("Opens"),
                required=False,
                widget=TIME_INPUT,
                initial=day[0] if day else None,
            )
            self.fields[f"closes_{index}"] = forms.TimeField(
                label=_("Closes"),
                required=False,
                widget=TIME_INPUT,
                initial=day[1] if day else None,
            )
            self.fields[f"closed_{index}"] = forms.BooleanField(
                label=_("Closed"), required=False, initial=day is None
            )

    @property
    def contract_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in _HOUR_FIELDS]

    @property
    def business_hour_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "weekday": WEEKDAYS[index],
                "opens": self[f"opens_{index}"],
                "closes": self[f"closes_{index}"],
                "closed": self[f"closed_{index}"],
            }
            for index in range(7)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data
        hours: list[list[str] | None] = []
        for index in range(7):
            opens = cleaned.get(f"opens_{index}")
            closes = cleaned.get(f"closes_{index}")
            if cleaned.get(f"closed_{index}"):
                hours.append(None)
                continue
            if opens is None or closes is None:
                if f"opens_{index}" not in self.errors and f"closes_{index}" not in self.errors:
                    self.add_error(
                        f"opens_{index}",
                        _("Give opening and closing times, or tick “closed”."),
                    )
                continue
            if opens >= closes:
                self.add_error(f"closes_{index}", _("A day must open before it closes."))
                continue
            hours.append([opens.strftime("%H:%M"), closes.strftime("%H:%M")])
        if len(hours) == 7 and not any(hours):
            self.add_error(None, _("At least one day must have business hours."))
        cleaned["business_hours"] = hours
        return cleaned

    def values(self) -> dict[str, Any]:
        """What the services take, from the cleaned data."""
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in (
                "plan",
                "name",
                "start_date",
                "end_date",
                "manager",
                "deputy",
                "timezone",
                "business_hours",
                "holiday_country",
                "language",
            )
        }
        if "organization" in self.fields:
            values["organization"] = data["organization"]
        return values


_HOUR_FIELDS = frozenset(
    f"{part}_{index}" for part in ("opens", "closes", "closed") for index in range(7)
)


def _one_year_later(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def engagement_initial(engagement: Engagement) -> dict[str, Any]:
    return {
        "plan": engagement.plan_id,
        "name": engagement.name,
        "start_date": engagement.start_date,
        "end_date": engagement.end_date,
        "manager": engagement.manager_id,
        "deputy": engagement.deputy_id,
        "timezone": engagement.timezone,
        "holiday_country": engagement.holiday_country,
        "language": engagement.language,
        "business_hours": engagement.business_hours,
    }


class HolidayForm(PortalForm):
    date = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
