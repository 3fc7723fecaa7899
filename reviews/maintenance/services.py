"""Maintenance windows (service function `maintenance_planning`): writes."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagements.business_time import BusinessCalendar
from engagements.contacts.selectors import named_contacts
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, entitled_engagements, require_entitlement
from engagements.selectors import engagement_calendar, require_staff
from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import Conflict, InvalidInput
from portal.locks import locked_again
from portal.notifications import notify
from portal.webhooks.events import emit
from portal.workflow import move_status
from reviews.maintenance.models import MaintenanceWindow
from reviews.scheduling.reminders import business_days_before

MAINTENANCE_FIELDS = ("title", "starts_at", "ends_at", "systems_affected", "expected_impact")


STAFF_ONLY = gettext_lazy("Only the engagement's manager, deputy or an admin plans this.")


MAINTENANCE_TRANSITIONS: dict[str, set[str]] = {
    MaintenanceWindow.Status.PLANNED: {
        MaintenanceWindow.Status.CONFIRMED,
        MaintenanceWindow.Status.DONE,
        MaintenanceWindow.Status.CANCELLED,
    },
    MaintenanceWindow.Status.CONFIRMED: {
        MaintenanceWindow.Status.DONE,
        MaintenanceWindow.Status.CANCELLED,
    },
}


def local_text(moment: datetime, engagement: Engagement) -> str:
    return date_format(timezone.localtime(moment, engagement.zone), "DATETIME_FORMAT")


def _check_window(fields: dict, *, new: bool) -> None:
    errors: dict[str, list[str]] = {}
    if not str(fields.get("title", "")).strip():
        errors["title"] = [_("Give the window a title.")]
    starts_at, ends_at = fields.get("starts_at"), fields.get("ends_at")
    if starts_at is None:
        errors["starts_at"] = [_("Give the start.")]
    if ends_at is None:
        errors["ends_at"] = [_("Give the end.")]
    if starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            errors["ends_at"] = [_("The window must end after it starts.")]
        if new and starts_at <= timezone.now():
            errors["starts_at"] = [_("Choose a start in the future.")]
    if errors:
        raise InvalidInput(fields=errors)


def _notify_planned(window: MaintenanceWindow) -> None:
    engagement = window.engagement

    def render() -> tuple[str, str]:
        return (
            _("Maintenance planned for %(engagement)s: %(title)s")
            % {"engagement": engagement, "title": window.title},
            _(
                "From %(start)s to %(end)s (%(zone)s).\n"
                "Systems affected: %(systems)s\nImpact: %(impact)s"
            )
            % {
                "start": local_text(window.starts_at, engagement),
                "end": local_text(window.ends_at, engagement),
                "zone": engagement.timezone,
                "systems": window.systems_affected or "-",
                "impact": window.expected_impact or "-",
            },
        )

    notify(
        users=named_contacts(engagement),
        kind="maintenance.planned",
        key=f"maintenance:{window.pk}:planned",
        url=f"/engagements/{engagement.pk}/maintenance/#window-{window.pk}",
        engagement=engagement,
        render=render,
    )


@transaction.atomic
def maintenance_plan(
    *,
    acting_user: User,
    engagement: Engagement,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    systems_affected: str = "",
    expected_impact: str = "",
) -> MaintenanceWindow:
    """The manager, deputy or an admin plans a window; named contacts are notified once."""
    require_staff(acting_user, engagement, STAFF_ONLY)
    require_entitlement(engagement, FunctionCode.MAINTENANCE)
    fields = {
        "title": title.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "systems_affected": systems_affected.strip(),
        "expected_impact": expected_impact.strip(),
    }
    _check_window(fields, new=True)
    window = MaintenanceWindow.objects.create(
        engagement=engagement, created_by=acting_user, **fields
    )
    audit(
        actor=acting_user,
        action="maintenance.plan",
        instance=window,
        after=snapshot(window),
        organization_id=engagement.organization_id,
    )
    _notify_planned(window)
    emit("maintenance.scheduled", window)
    return window


@transaction.atomic
def maintenance_update(
    *, acting_user: User, window: MaintenanceWindow, **changes: object
) -> MaintenanceWindow:
    """The engagement's staff edit an open window (title, times, systems, impact). Moving it
    re-arms the notice before it."""
    window = locked_again(window, "engagement__plan")
    require_staff(acting_user, window.engagement, STAFF_ONLY)
    require_entitlement(window.engagement, FunctionCode.MAINTENANCE)
    if not window.is_open:
        raise Conflict(_("A done or cancelled window cannot be changed."))
    unknown = set(changes) - set(MAINTENANCE_FIELDS)
    if unknown:
        raise InvalidInput(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    before = snapshot(window)
    fields = {name: getattr(window, name) for name in MAINTENANCE_FIELDS}
    fields.update({k: (v.strip() if isinstance(v, str) else v) for k, v in changes.items()})
    _check_window(fields, new=False)
    moved = fields["starts_at"] != window.starts_at
    for name, value in fields.items():
        setattr(window, name, value)
    if moved:
        window.notice_sent_at = None
    window.save()
    audit(
        actor=acting_user,
        action="maintenance.update",
        instance=window,
        before=before,
        after=snapshot(window),
        organization_id=window.engagement.organization_id,
    )
    return window


@transaction.atomic
def maintenance_update_status(
    *, acting_user: User, window: MaintenanceWindow, status: str
) -> MaintenanceWindow:
    """planned → confirmed → done; an open window can be cancelled. 409 otherwise."""
    window = locked_again(window, "engagement__plan")
    require_staff(acting_user, window.engagement, STAFF_ONLY)
    require_entitlement(window.engagement, FunctionCode.MAINTENANCE)
    return move_status(
        acting_user=acting_user,
        item=window,
        status=status,
        transitions=MAINTENANCE_TRANSITIONS,
        action="maintenance.status",
        message=_("A %(current)s window cannot become %(new)s."),
        organization_id=window.engagement.organization_id,
    )


def send_maintenance_notices(now: datetime | None = None) -> int:
    """Notify named contacts of open windows whose notice time (N business days before, setting
    MAINTENANCE_NOTICE_BUSINESS_DAYS) has come. Each window is claimed by setting
    `notice_sent_at` conditionally in the sending transaction: exactly once. Call in a scope."""
    now = now or timezone.now()
    lead_days = settings.MAINTENANCE_NOTICE_BUSINESS_DAYS
    candidates = (
        MaintenanceWindow.objects.filter(
            engagement__in=entitled_engagements(FunctionCode.MAINTENANCE),
            status__in=(MaintenanceWindow.Status.PLANNED, MaintenanceWindow.Status.CONFIRMED),
            notice_sent_at__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(days=lead_days * 2 + 14),
        )
        .select_related("engagement")
        .order_by("starts_at", "id")
    )
    calendars: dict[int, BusinessCalendar] = {}
    sent = 0
    for window in candidates:
        engagement = window.engagement
        if engagement.pk not in calendars:
            calendars[engagement.pk] = engagement_calendar(engagement, with_after_hours=False)
        if business_days_before(calendars[engagement.pk], window.starts_at, lead_days) > now:
            continue
        if _send_notice(window, now):
            sent += 1
    return sent


def _send_notice(window: MaintenanceWindow, now: datetime) -> bool:
    try:
        with transaction.atomic():
            claimed = MaintenanceWindow.objects.filter(
                pk=window.pk, notice_sent_at__isnull=True, starts_at=window.starts_at
            ).update(notice_sent_at=now, updated_at=now)
            if not claimed:
                return False  # another run sent it, or the window moved meanwhile
            engagement = window.engagement

            def render() -> tuple[str, str]:
                return (
                    _("Upcoming maintenance for %(engagement)s: %(title)s on %(start)s")
                    % {
                        "engagement": engagement,
                        "title": window.title,
                        "start": local_text(window.starts_at, engagement),
                    },
                    _(
                        "Until %(end)s (%(zone)s).\n"
                        "Systems affected: %(systems)s\nImpact: %(impact)s"
                    )
                    % {
                        "end": local_text(window.ends_at, engagement),
                        "zone": engagement.timezone,
                        "systems": window.systems_affected or "-",
                        "impact": window.expected_impact or "-",
                    },
                )

            notify(
                users=named_contacts(engagement),
                kind="maintenance.notice",
                key=f"maintenance:{window.pk}:notice:{window.starts_at.isoformat()}",
                url=f"/engagements/{engagement.pk}/maintenance/#window-{window.pk}",
                engagement=engagement,
                render=render,
            )
        return True
    except IntegrityError:
        return False
