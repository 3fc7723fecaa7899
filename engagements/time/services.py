"""Time entries and the weekly hours budget: writes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.contracts.models import Engagement
from engagements.selectors import serves
from engagements.time.models import OverageFlag, TimeEntry
from engagements.time.selectors import hours_summary
from portal.accounts.models import User
from portal.audit import audit
from portal.deletions import deletion_record
from portal.errors import DomainError, InvalidInput
from portal.notifications import notify, provider_admins


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
    deletion_record(
        object_type="time-entry",
        object_id=entry.pk,
        organization_id=entry.engagement.organization_id,
        engagement_id=entry.engagement_id,
    )
    entry.delete()


@transaction.atomic
def overage_evaluate(*, engagement: Engagement, today: date | None = None) -> OverageFlag | None:
    """Raise or clear the engagement's overage flag from the trailing 4 full weeks: raised
    while their average is over the cap and at least 3 of them were over it
    (`HoursSummary.persistently_over_cap`), cleared once that stops holding.

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
    if summary.persistently_over_cap:
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
