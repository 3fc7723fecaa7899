"""Operations on the catalog and on engagements. Callers check who may call them; each
operation validates its rule, writes an audit entry (portal.audit) and enqueues side effects
after commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.business_time import add_business_days, business_time_between, country_holidays
from engagements.models import (
    Absence,
    AfterHoursRequest,
    Cadence,
    Contact,
    Engagement,
    EngagementHoliday,
    Entitlement,
    Frequency,
    Method,
    OverageFlag,
    Plan,
    ServiceFunction,
    TimeEntry,
    parse_business_hours,
)
from engagements.selectors import (
    engagement_calendar,
    hours_summary,
    is_active_contact,
    serves,
)
from portal.accounts.models import User, validate_time_zone
from portal.audit import audit, snapshot
from portal.errors import Conflict, DomainError, InvalidInput
from portal.notifications import notify, provider_admins
from portal.tenancy.models import Membership, Organization

AFTER_HOURS_NOTICE_BUSINESS_DAYS = 2


class ContactLimitReached(Conflict):
    code = "contact_limit_reached"


# --- Catalog ---------------------------------------------------------------------------------


@transaction.atomic
def entitlement_matrix_set(
    *, acting_user: User, cells: Iterable[tuple[int, int]]
) -> tuple[int, int]:
    """Make the matrix exactly `cells` ((plan id, function id) pairs); returns (added, removed).

    Each plan whose ✓s change gets one audit entry: who, when, its functions before and after.
    """
    wanted = set(cells)
    plans = set(Plan.objects.values_list("id", flat=True))
    functions = set(ServiceFunction.objects.values_list("id", flat=True))
    unknown = [cell for cell in wanted if cell[0] not in plans or cell[1] not in functions]
    if unknown:
        raise InvalidInput(fields={"cells": [_("Unknown plan or function in the matrix.")]})
    # Every row, locked in id order (see portal.locks).
    current = {
        (e.plan_id, e.function_id): e
        for e in Entitlement.objects.select_for_update().order_by("pk")
    }
    codes = dict(ServiceFunction.objects.values_list("id", "code"))
    before = _entitlement_codes(current, codes)
    removed = 0
    for cell, entitlement in current.items():
        if cell not in wanted:
            entitlement.delete()
            removed += 1
    added = 0
    for plan_id, function_id in sorted(wanted - set(current)):
        entitlement = Entitlement(plan_id=plan_id, function_id=function_id)
        entitlement.save()
        added += 1
    after = _entitlement_codes(wanted, codes)
    for plan in Plan.objects.filter(pk__in=plans).order_by("position", "id"):
        if before.get(plan.pk, []) != after.get(plan.pk, []):
            audit(
                actor=acting_user,
                action="plan.entitlements",
                instance=plan,
                before={"entitlements": before.get(plan.pk, [])},
                after={"entitlements": after.get(plan.pk, [])},
            )
    return added, removed


def _entitlement_codes(
    cells: Iterable[tuple[int, int]], codes: dict[int, str]
) -> dict[int, list[str]]:
    """{plan id: sorted function codes} of a set of matrix cells."""
    by_plan: dict[int, list[str]] = {}
    for plan_id, function_id in cells:
        by_plan.setdefault(plan_id, []).append(codes[function_id])
    return {plan_id: sorted(found) for plan_id, found in by_plan.items()}


@transaction.atomic
def cadence_set(
    *,
    acting_user: User,
    plan: Plan,
    deliverable: ServiceFunction,
    methods: list[str] | None,
    frequency: str | None,
) -> Cadence | None:
    """Set (or with no methods, remove) how the plan delivers a deliverable."""
    existing = (
        Cadence.objects.select_for_update().filter(plan=plan, deliverable=deliverable).first()
    )
    before = _cadence_state(existing)
    if not methods:
        if existing is not None:
            existing.delete()
            _audit_cadence(acting_user, plan, deliverable, before, None)
        return None
    errors: dict[str, list[str]] = {}
    if any(method not in Method.values for method in methods) or len(set(methods)) != len(methods):
        errors["methods"] = [_("Choose one or more delivery methods.")]
    if frequency not in Frequency.values:
        errors["frequency"] = [_("Choose a frequency.")]
    if errors:
        raise InvalidInput(fields=errors)
    cadence = existing or Cadence(plan=plan, deliverable=deliverable)
    if existing is not None and existing.methods == methods and existing.frequency == frequency:
        return existing
    cadence.methods = list(methods)
    assert frequency is not None  # refused above unless one of Frequency.values
    cadence.frequency = frequency
    cadence.save()
    _audit_cadence(acting_user, plan, deliverable, before, _cadence_state(cadence))
    return cadence


def _cadence_state(cadence: Cadence | None) -> dict[str, object] | None:
    if cadence is None:
        return None
    return {"methods": list(cadence.methods), "frequency": cadence.frequency}


def _audit_cadence(
    acting_user: User,
    plan: Plan,
    deliverable: ServiceFunction,
    before: dict[str, object] | None,
    after: dict[str, object] | None,
) -> None:
    audit(
        actor=acting_user,
        action="plan.cadence",
        instance=plan,
        before=None if before is None else {"deliverable": deliverable.code, **before},
        after=None if after is None else {"deliverable": deliverable.code, **after},
    )


PLAN_FIELDS = (
    "name",
    "deployment",
    "pricing",
    "response_target_business_days",
    "max_contacts",
    "weekly_hours_cap",
    "max_open_cases_per_manager",
    "weekly_call",
)


@transaction.atomic
def plan_save(
    *, acting_user: User, plan: Plan | None = None, code: str | None = None, **fields: object
) -> Plan:
    """Create a plan (with `code`) or change an existing one's settings."""
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise InvalidInput(fields={name: [_("This field cannot be changed.")] for name in unknown})
    if plan is None:
        if not code or Plan.objects.filter(code=code).exists():
            raise InvalidInput(fields={"code": [_("Give a new, unique plan code.")]})
        plan = Plan(code=code, position=Plan.objects.count())
        before = None
    else:
        plan = Plan.objects.select_for_update().get(pk=plan.pk)
        before = snapshot(plan)
    for name, value in fields.items():
        setattr(plan, name, value)
    try:
        plan.full_clean()
    except ValidationError as exc:
        raise InvalidInput(fields=exc.message_dict) from exc
    plan.save()
    after = snapshot(plan)
    if before != after:
        audit(
            actor=acting_user,
            action="plan.create" if before is None else "plan.update",
            instance=plan,
            before=before,
            after=after,
        )
    return plan


@transaction.atomic
def service_function_save(
    *,
    acting_user: User,
    function: ServiceFunction | None = None,
    code: str | None = None,
    name: str,
    description: str = "",
) -> ServiceFunction:
    """Create a function (with a new `code`) or rename/redescribe one; codes never change."""
    if function is None:
        if not code or ServiceFunction.objects.filter(code=code).exists():
            raise InvalidInput(fields={"code": [_("Give a new, unique function code.")]})
        function = ServiceFunction(code=code, position=ServiceFunction.objects.count())
    if not name.strip():
        raise InvalidInput(fields={"name": [_("This field may not be blank.")]})
    before = snapshot(function) if function.pk else None
    function.name = name.strip()
    function.description = description
    function.save()
    after = snapshot(function)
    if before != after:
        audit(
            actor=acting_user,
            action="service_function.create" if before is None else "service_function.update",
            instance=function,
            before=before,
            after=after,
        )
    return function


# --- Engagements -----------------------------------------------------------------------------

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
    values = {
        "organization": organization,
        "plan": plan,
        "manager": manager,
        "timezone": "UTC",
        "business_hours": Engagement._meta.get_field("business_hours").get_default(),
        **fields,
    }
    unknown = set(values) - set(ENGAGEMENT_FIELDS)
    if unknown:
        raise InvalidInput(fields={name: [_("Unknown field.")] for name in unknown})
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


# --- Named contacts --------------------------------------------------------------------------


@transaction.atomic
def contact_add(*, acting_user: User, engagement: Engagement, user: User) -> Contact:
    """Name a PoC. Locks the engagement row, so two requests for the last seat serialize and
    exactly one gets it; the other gets `contact_limit_reached`."""
    locked = (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("plan")
        .get(pk=engagement.pk)
    )
    if (
        not Membership.objects.filter(
            organization_id=locked.organization_id, user=user, is_active=True
        ).exists()
        or not user.is_active
    ):
        raise InvalidInput(
            fields={
                "user": [
                    _("Only active people of the engagement's organization can be named contacts.")
                ]
            }
        )
    if is_active_contact(locked, user):
        raise InvalidInput(fields={"user": [_("This person is already a named contact.")]})
    active = Contact.objects.filter(engagement=locked, removed_at__isnull=True).count()
    if active >= locked.plan.max_contacts:
        raise ContactLimitReached(
            _("The %(plan)s plan allows at most %(limit)d named contacts; remove one first.")
            % {"plan": locked.plan.name, "limit": locked.plan.max_contacts},
            fields={
                "user": [
                    _("The engagement already has %(count)d named contacts.") % {"count": active}
                ]
            },
        )
    contact = Contact.objects.create(engagement=locked, user=user, added_by=acting_user)
    audit(
        actor=acting_user,
        action="contact.add",
        instance=contact,
        after={"engagement": locked.pk, "user": user.pk},
        organization_id=locked.organization_id,
    )
    return contact


@transaction.atomic
def contact_remove(*, acting_user: User, contact: Contact) -> Contact:
    """End a contact; the row stays as history."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.removed_at is None:
        contact.removed_at = timezone.now()
        contact.removed_by = acting_user
        contact.save(update_fields=["removed_at", "removed_by"])
        audit(
            actor=acting_user,
            action="contact.remove",
            instance=contact,
            before={"engagement": contact.engagement_id, "user": contact.user_id},
            after={"removed_at": contact.removed_at.isoformat()},
            organization_id=contact.engagement.organization_id,
        )
    return contact


# --- Absences --------------------------------------------------------------------------------


@transaction.atomic
def absence_record(
    *,
    acting_user: User,
    manager: User,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
) -> Absence:
    """Managers record their own absences; admins anyone's."""
    if not manager.is_provider_staff:
        raise InvalidInput(fields={"manager": [_("Absences are for provider staff.")]})
    if acting_user != manager and not acting_user.is_provider_admin:
        raise DomainError(_("You can only record your own absences."))
    errors: dict[str, list[str]] = {}
    if kind not in Absence.Kind.values:
        errors["kind"] = [_("Choose vacation, sick leave or internal training.")]
    if ends_at <= starts_at:
        errors["ends_at"] = [_("The absence must end after it starts.")]
    elif Absence.objects.filter(
        manager=manager, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists():
        errors["starts_at"] = [_("This overlaps another absence.")]
    if errors:
        raise InvalidInput(fields=errors)
    absence = Absence(manager=manager, kind=kind, starts_at=starts_at, ends_at=ends_at, note=note)
    absence.save()
    audit(
        actor=acting_user, action="absence.record", instance=absence, after=_absence_state(absence)
    )
    return absence


def _absence_state(absence: Absence) -> dict[str, object]:
    return {
        "manager": absence.manager_id,
        "kind": absence.kind,
        "starts_at": absence.starts_at.isoformat(),
        "ends_at": absence.ends_at.isoformat(),
        "note": absence.note,
    }


@transaction.atomic
def absence_delete(*, acting_user: User, absence: Absence) -> None:
    if acting_user != absence.manager and not acting_user.is_provider_admin:
        raise DomainError(_("You can only remove your own absences."))
    audit(
        actor=acting_user, action="absence.delete", instance=absence, before=_absence_state(absence)
    )
    absence.delete()


# --- After-hours support requests ------------------------------------------------------------


@transaction.atomic
def after_hours_request(
    *,
    acting_user: User,
    engagement: Engagement,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    now: datetime | None = None,
) -> AfterHoursRequest:
    """A named contact asks for coverage outside business hours, 2 business days ahead."""
    now = now or timezone.now()
    if not is_active_contact(engagement, acting_user):
        raise DomainError(
            _("Only the engagement's named contacts can request after-hours support.")
        )
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = [_("Say what the coverage is for.")]
    if ends_at <= starts_at:
        errors["ends_at"] = [_("The window must end after it starts.")]
    elif ends_at - starts_at > timedelta(hours=24):
        errors["ends_at"] = [_("A window is at most 24 hours; file one request per day.")]
    else:
        calendar = engagement_calendar(engagement, with_after_hours=False)
        earliest = add_business_days(calendar, now, AFTER_HOURS_NOTICE_BUSINESS_DAYS)
        if starts_at < earliest:
            errors["starts_at"] = [
                _("Requests need %(days)d business days' notice: the earliest start is %(when)s.")
                % {
                    "days": AFTER_HOURS_NOTICE_BUSINESS_DAYS,
                    "when": earliest.astimezone(engagement.zone).strftime("%Y-%m-%d %H:%M %Z"),
                }
            ]
        elif business_time_between(calendar, starts_at, ends_at) >= ends_at - starts_at:
            errors["starts_at"] = [_("This window is inside business hours already.")]
    if errors:
        raise InvalidInput(fields=errors)
    request = AfterHoursRequest.objects.create(
        engagement=engagement,
        requested_by=acting_user,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
    )
    staff = [user for user in (engagement.manager, engagement.deputy) if user is not None]
    notify(
        users=staff,
        kind="after_hours.requested",
        key=f"after-hours:{request.pk}:requested",
        render=lambda: (
            _("After-hours support requested for %(engagement)s") % {"engagement": engagement},
            request.reason,
        ),
        url=f"/engagements/{engagement.pk}/after-hours/",
        engagement=engagement,
    )
    return request


@transaction.atomic
def after_hours_decide(
    *, acting_user: User, request: AfterHoursRequest, approve: bool, note: str = ""
) -> AfterHoursRequest:
    """The manager, the deputy or an admin approves or declines a pending request."""
    request = (
        AfterHoursRequest.objects.select_for_update(of=("self",))
        .select_related("engagement")
        .get(pk=request.pk)
    )
    engagement = request.engagement
    if not (
        acting_user.is_provider_admin
        or acting_user.pk in (engagement.manager_id, engagement.deputy_id)
    ):
        raise DomainError(_("Only the engagement's manager or deputy can decide."))
    if request.status != AfterHoursRequest.Status.PENDING:
        raise Conflict(_("This request was already decided."))
    if not approve and not note.strip():
        raise InvalidInput(fields={"decision_note": [_("Say why the request is declined.")]})
    request.status = (
        AfterHoursRequest.Status.APPROVED if approve else AfterHoursRequest.Status.DECLINED
    )
    request.decided_by = acting_user
    request.decided_at = timezone.now()
    request.decision_note = note.strip()
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit(
        actor=acting_user,
        action=f"after_hours.{request.status}",
        instance=request,
        organization_id=engagement.organization_id,
    )
    notify(
        users=[request.requested_by],
        kind="after_hours.decided",
        key=f"after-hours:{request.pk}:decided",
        render=lambda: (
            _("Your after-hours request was approved")
            if approve
            else _("Your after-hours request was declined"),
            request.decision_note,
        ),
        url=f"/engagements/{engagement.pk}/after-hours/",
        engagement=engagement,
    )
    return request


# --- Time entries and the weekly budget ---------------------------------------------------------


@transaction.atomic
def time_entry_log(
    *,
    acting_user: User,
    engagement: Engagement,
    day: date,
    minutes: int,
    activity: str,
    note: str = "",
    manager: User | None = None,
) -> TimeEntry:
    """Managers log their own minutes on engagements they serve; admins for any manager."""
    manager = manager or acting_user
    if not serves(acting_user, engagement) or (
        manager != acting_user and not acting_user.is_provider_admin
    ):
        raise DomainError(_("Only the engagement's manager or deputy can log time on it."))
    errors: dict[str, list[str]] = {}
    if not 1 <= int(minutes) <= 24 * 60:
        errors["minutes"] = [_("Log between 1 and 1440 minutes.")]
    if activity not in TimeEntry.Activity.values:
        errors["activity"] = [_("Choose an activity.")]
    if day > engagement.local_today() + timedelta(days=1):
        errors["date"] = [_("Time cannot be logged in the future.")]
    if errors:
        raise InvalidInput(fields=errors)
    entry = TimeEntry.objects.create(
        engagement=engagement,
        manager=manager,
        date=day,
        minutes=int(minutes),
        activity=activity,
        note=note,
    )
    audit(
        actor=acting_user,
        action="time_entry.log",
        instance=entry,
        after={"minutes": entry.minutes, "date": str(day)},
        organization_id=engagement.organization_id,
    )
    return entry


@transaction.atomic
def time_entry_delete(*, acting_user: User, entry: TimeEntry) -> None:
    if not (acting_user.is_provider_admin or entry.manager_id == acting_user.pk):
        raise DomainError(_("You can only remove your own time entries."))
    audit(
        actor=acting_user,
        action="time_entry.delete",
        instance=entry,
        before={"minutes": entry.minutes, "date": str(entry.date)},
        organization_id=entry.engagement.organization_id,
    )
    entry.delete()


@transaction.atomic
def overage_evaluate(*, engagement: Engagement, today: date | None = None) -> OverageFlag | None:
    """Raise or clear the engagement's overage flag from the trailing 4 full weeks.

    Locks the engagement so concurrent evaluations agree; admins are notified once per flag.
    Returns the open flag, if any.
    """
    engagement = (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("plan")
        .get(pk=engagement.pk)
    )
    summary = hours_summary(engagement, today=today)
    open_flag = OverageFlag.objects.filter(engagement=engagement, cleared_at__isnull=True).first()
    average = summary.trailing_average_minutes
    if summary.over_cap:
        if open_flag is None:
            open_flag = OverageFlag.objects.create(
                engagement=engagement,
                average_minutes=average,
                cap_minutes=summary.cap_minutes,
                weekly_minutes=[[str(week), minutes] for week, minutes in summary.trailing_weeks],
                last_average_minutes=average,
            )
            hours = Decimal(average) / 60
            notify(
                users=provider_admins(),
                kind="overage.raised",
                key=f"overage:{open_flag.pk}:raised",
                render=lambda: (
                    _("Additional contract recommended: %(engagement)s")
                    % {"engagement": engagement},
                    _(
                        "The last 4 full weeks averaged %(hours).1f hours a week against a cap "
                        "of %(cap)s hours."
                    )
                    % {"hours": hours, "cap": engagement.plan.weekly_hours_cap},
                ),
                url=f"/engagements/{engagement.pk}/",
                engagement=engagement,
            )
        elif open_flag.last_average_minutes != average:
            open_flag.last_average_minutes = average
            open_flag.save(update_fields=["last_average_minutes"])
        return open_flag
    if open_flag is not None:
        open_flag.cleared_at = timezone.now()
        open_flag.last_average_minutes = average
        open_flag.save(update_fields=["cleared_at", "last_average_minutes"])
    return None
