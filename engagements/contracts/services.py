"""Engagements, the contracts between the vendor and a customer organization: writes."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.business_time import country_holidays
from engagements.catalog.models import (
    Plan,
)
from engagements.contracts.models import Engagement, EngagementHoliday, parse_business_hours
from portal.accounts.models import User, validate_time_zone
from portal.audit import audit, snapshot
from portal.errors import InvalidInput
from portal.tenancy.models import Organization
from portal.webhooks.events import emit

ENGAGEMENT_FIELDS = (
    "organization",
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
    "review_slot",
)


def _validate_engagement(values: dict[str, object]) -> None:
    errors: dict[str, list[str]] = {}
    manager, deputy = values.get("manager"), values.get("deputy")
    if not isinstance(manager, User) or not manager.is_provider_staff or not manager.is_active:
        errors["manager"] = [_("The service manager must be active provider staff.")]
    if deputy is not None and (
        not isinstance(deputy, User) or not deputy.is_provider_staff or not deputy.is_active
    ):
        errors["deputy"] = [_("The deputy must be active provider staff.")]
    elif deputy is not None and deputy == manager:
        errors["deputy"] = [_("The deputy cannot be the service manager.")]
    start, end = values.get("start_date"), values.get("end_date")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        errors["end_date"] = [_("The end date must not be before the start date.")]
    try:
        validate_time_zone(str(values.get("timezone")))
    except Exception:
        errors["timezone"] = [_("Choose a known IANA time zone, like Asia/Seoul.")]
    country = values.get("holiday_country") or ""
    if country:
        try:
            country_holidays(str(country), (timezone.now().year,))
        except ValueError:
            errors["holiday_country"] = [_("This is not a country code of the holidays calendar.")]
    try:
        parse_business_hours(values.get("business_hours"))
    except (ValueError, TypeError) as exc:
        errors["business_hours"] = [_("Business hours are not valid: %(why)s.") % {"why": exc}]
    if errors:
        raise InvalidInput(fields=errors)


@transaction.atomic
def engagement_create(
    *, acting_user: User, organization: Organization, plan: Plan, manager: User, **fields: object
) -> Engagement:
    """A new engagement. Its time zone and holiday calendar are required: a default (UTC, no
    holidays) would silently count the customer's public holidays as business time."""
    values = {
        "organization": organization,
        "plan": plan,
        "manager": manager,
        "business_hours": Engagement._meta.get_field("business_hours").get_default(),
        **fields,
    }
    unknown = set(values) - set(ENGAGEMENT_FIELDS)
    if unknown:
        raise InvalidInput(fields={name: [_("Unknown field.")] for name in unknown})
    missing = {
        name: [_("This field is required.")]
        for name in ("timezone", "holiday_country")
        if not values.get(name)
    }
    if missing:
        raise InvalidInput(fields=missing)
    _validate_engagement(values)
    engagement = Engagement(**values)
    engagement.save()
    audit(
        actor=acting_user,
        action="engagement.create",
        instance=engagement,
        after=snapshot(engagement),
        organization_id=organization.pk,
    )
    _after_engagement_change(engagement)
    return engagement


@transaction.atomic
def engagement_update(
    *, acting_user: User, engagement: Engagement, **changes: object
) -> Engagement:
    unknown = set(changes) - set(ENGAGEMENT_FIELDS) | ({"organization"} & set(changes))
    if unknown:
        raise InvalidInput(fields={name: [_("This field cannot be changed.")] for name in unknown})
    if "holiday_country" in changes and not changes["holiday_country"]:
        raise InvalidInput(
            fields={"holiday_country": [_("An engagement keeps a public-holiday calendar.")]}
        )
    engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
    before = snapshot(engagement)
    values = {name: getattr(engagement, name) for name in ENGAGEMENT_FIELDS} | changes
    _validate_engagement(values)
    for name, value in changes.items():
        setattr(engagement, name, value)
    engagement.save()
    audit(
        actor=acting_user,
        action="engagement.update",
        instance=engagement,
        before=before,
        after=snapshot(engagement),
        organization_id=engagement.organization_id,
    )
    _after_engagement_change(engagement)
    emit("engagement.updated", engagement)
    return engagement


def _after_engagement_change(engagement: Engagement) -> None:
    """Hook for apps that follow engagement changes (the review scheduler, later)."""
    from engagements.signals import engagement_changed

    engagement_id = engagement.pk
    transaction.on_commit(
        lambda: engagement_changed.send(sender=Engagement, engagement_id=engagement_id)
    )


@transaction.atomic
def engagement_holiday_add(
    *, acting_user: User, engagement: Engagement, day: date, name: str = ""
) -> EngagementHoliday:
    if EngagementHoliday.objects.filter(engagement=engagement, date=day).exists():
        raise InvalidInput(
            fields={"date": [_("This date is already a holiday of the engagement.")]}
        )
    holiday = EngagementHoliday(engagement=engagement, date=day, name=name)
    holiday.save()
    audit(
        actor=acting_user,
        action="engagement.holiday_add",
        instance=engagement,
        after={"date": day.isoformat(), "name": name},
        organization_id=engagement.organization_id,
    )
    return holiday


@transaction.atomic
def engagement_holiday_remove(*, acting_user: User, holiday: EngagementHoliday) -> None:
    engagement = holiday.engagement
    before = {"date": holiday.date.isoformat(), "name": holiday.name}
    holiday.delete()
    audit(
        actor=acting_user,
        action="engagement.holiday_remove",
        instance=engagement,
        before=before,
        organization_id=engagement.organization_id,
    )
