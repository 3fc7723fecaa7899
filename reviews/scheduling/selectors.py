"""Sessions of the cadence (calls, reviews): scheduling, completion, action items: reads."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagements.catalog.models import Frequency, Method
from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.tenancy.scoping import instances_compiled_once
from reviews.scheduling.models import WEEKLY_CALL, ActionItem, Occurrence


def upcoming_sessions(
    engagement_ids: list[int], *, now: datetime | None = None, limit: int = 5
) -> list[Occurrence]:
    """The next scheduled sessions of the engagements, labelled (two queries), for the
    customer dashboard."""
    now = now or timezone.now()
    if not engagement_ids:
        return []
    # Compiled once (`instances_compiled_once`): the dashboard shows it on every visit.
    sessions = instances_compiled_once(
        f"scheduling.upcoming:{limit}",
        lambda values: (
            occurrences_in_scope()
            .filter(
                engagement_id__in=values[:-1],
                status=Occurrence.Status.SCHEDULED,
                scheduled_start__gte=values[-1],
            )
            .order_by("scheduled_start", "id")[:limit]
        ),
        [*engagement_ids, now],
    )
    return with_state(labelled(sessions, deliverable_labels()), now) if sessions else []


def engagement_people(engagement: Engagement) -> list[User]:
    """Who may attend or own an action item: the engagement's staff and named contacts."""
    contact_ids = Contact.objects.filter(
        engagement=engagement, removed_at__isnull=True
    ).values_list("user_id", flat=True)
    staff_ids = [pk for pk in (engagement.manager_id, engagement.deputy_id) if pk]
    return list(
        User.objects.filter(Q(pk__in=staff_ids) | Q(pk__in=list(contact_ids))).order_by(
            "kind", "name", "email"
        )
    )


def occurrences_in_scope() -> QuerySet[Occurrence]:
    return Occurrence.objects.select_related("engagement__organization", "engagement__plan")


def deliverable_labels() -> dict[str, str]:
    """Deliverable code → name for every service function (from the cached catalog snapshot)
    and the weekly call."""
    from engagements.catalog.selectors import catalog_snapshot

    labels = {function.code: function.display_name for function in catalog_snapshot().functions}
    labels[WEEKLY_CALL] = _("Weekly call")
    return labels


def deliverable_names_in_every_language() -> dict[str, list[str]]:
    """Deliverable code → its names in every language of the portal, in one query: what a
    search matches, so a Korean word finds a session whoever searches and in which language."""
    from django.conf import settings
    from django.utils import translation

    from engagements.catalog.models import ServiceFunction

    names: dict[str, list[str]] = {
        code: [name for name in (name, name_ko) if name]
        for code, name, name_ko in ServiceFunction.objects.values_list("code", "name", "name_ko")
    }
    weekly = []
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            weekly.append(str(_("Weekly call")))
    names[WEEKLY_CALL] = weekly
    return names


def labelled(occurrences: list[Occurrence], labels: dict[str, str]) -> list[Occurrence]:
    """Name what each occurrence delivers and how, without a query per row."""
    methods = {value: str(label) for value, label in Method.choices}  # translated once
    for occurrence in occurrences:
        occurrence.label = labels.get(occurrence.deliverable, occurrence.deliverable)
        occurrence.method_label = methods.get(occurrence.method, occurrence.method)
    return occurrences


def occurrence_state(occurrence: Occurrence, now: datetime) -> str:
    """due, overdue (start passed, not completed), completed, missed or cancelled."""
    if occurrence.status == Occurrence.Status.SCHEDULED:
        return "overdue" if occurrence.scheduled_start <= now else "due"
    return occurrence.status


STATE_LABELS = {
    "due": gettext_lazy("Due"),
    "overdue": gettext_lazy("Overdue"),
    "completed": gettext_lazy("Completed"),
    "missed": gettext_lazy("Missed"),
    "cancelled": gettext_lazy("Cancelled"),
}


def with_state(occurrences: list[Occurrence], now: datetime) -> list[Occurrence]:
    labels = {state: str(label) for state, label in STATE_LABELS.items()}  # translated once
    for occurrence in occurrences:
        occurrence.state = occurrence_state(occurrence, now)
        occurrence.state_label = labels[occurrence.state]
    return occurrences


def is_requested(occurrence: Occurrence) -> bool:
    return occurrence.period.startswith(f"{Frequency.AS_NEEDED}:")


def action_items_of(occurrence: Occurrence) -> list[ActionItem]:
    return list(
        ActionItem.objects.filter(occurrence=occurrence)
        .select_related("owner")
        .order_by("done", "due_date", "id")
    )


def contact_engagements(user: User) -> QuerySet[Engagement]:
    return Engagement.objects.filter(
        pk__in=Contact.objects.filter(user=user, removed_at__isnull=True).values("engagement_id")
    )


def requestable_engagements(user: User) -> QuerySet[Engagement]:
    """Current engagements the user may request a session for (inside the request's scope):
    admins any, managers those they serve, customers those they are a named contact of."""
    if user.is_provider_admin:
        queryset = Engagement.objects.all()
    elif user.is_service_manager:
        queryset = Engagement.objects.filter(Q(manager=user) | Q(deputy=user))
    else:
        queryset = contact_engagements(user)
    return queryset.filter(end_date__gte=timezone.localdate()).select_related(
        "organization", "plan"
    )
