"""A real Celery worker on Redis is SIGKILLed in the middle of the review scheduler and in the
middle of the occurrence reminders: after a restart and a rerun the calendar holds exactly the
occurrences a clean run creates — none duplicated, none lost — and each reminder went out once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement
from portal.notifications import Notification, OutboxEmail
from reviews.scheduling import scheduler
from reviews.scheduling.models import Occurrence, OccurrenceReminder
from reviews.scheduling.reminders import participants
from tests.factories import EngagementFactory, MembershipFactory, plan
from tests.faults.harness import backends_idle_in_transaction, restart_faults, sender, wait_for

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

PLACES = [("Europe/Berlin", "DE"), ("Asia/Seoul", "KR"), ("America/New_York", "US")]
PLANS = ["premium", "standard", "tsam"]


def engagements(count: int, **dates) -> list[Engagement]:
    made = []
    for n in range(count):
        zone, country = PLACES[n % len(PLACES)]
        engagement = EngagementFactory(
            plan=plan(PLANS[n % len(PLANS)]), timezone=zone, holiday_country=country, **dates
        )
        for _contact in range(2):
            user = MembershipFactory(organization=engagement.organization).user
            Contact.objects.create(engagement=engagement, user=user)
        made.append(engagement)
    return made


def calendar(among: list[Engagement] | None = None) -> list[tuple[int, str, object]]:
    occurrences = Occurrence.objects.all()
    if among is not None:
        occurrences = occurrences.filter(engagement__in=among)
    return list(occurrences.values_list("engagement_id", "deliverable", "scheduled_start"))


def scheduled_engagements() -> int:
    return Occurrence.objects.values("engagement_id").distinct().count()


def test_worker_killed_mid_schedule_then_restarted(start_worker, redis_server):
    # Terms that start in a few days and end inside the 90-day horizon: the set of wanted
    # occurrences does not depend on the minute (or the day) each run happens at.
    first = start_worker("schedule-killed", wait=False, faults={"FAULTS_HOLD": "schedule:6"})
    today = timezone.now().date()
    made = engagements(
        18, start_date=today + timedelta(days=3), end_date=today + timedelta(days=45)
    )
    Occurrence.objects.all().delete()  # whatever a signal may have scheduled on creation

    # The clean reference run, in this process.
    for engagement_id in scheduler.active_engagement_ids(today):
        scheduler.schedule_engagement(Engagement.objects.get(pk=engagement_id))
    reference = Counter(calendar())
    assert len(reference) > 10 * len(made) and set(reference.values()) == {1}
    assert {key[0] for key in reference} == {engagement.pk for engagement in made}
    Occurrence.objects.all().delete()

    client = sender(redis_server.url)
    first.wait_ready()
    killed_task = client.send_task(
        "reviews.scheduling.tasks.schedule_all", queue=start_worker.queue
    )
    first.wait_for_line("FAULTS: holding engagement #7")
    wait_for(
        lambda: scheduled_engagements() == 6 and backends_idle_in_transaction(),
        "six engagements scheduled and the seventh's transaction held open",
    )
    first.kill()
    assert first.succeeded(killed_task.id) == 0
    assert scheduled_engagements() == 6  # the seventh's occurrences died with its transaction

    second = start_worker("schedule-restarted", faults=restart_faults())
    wait_for(lambda: second.succeeded(killed_task.id), "the killed run to be redelivered")
    rerun = client.send_task("reviews.scheduling.tasks.schedule_all", queue=start_worker.queue)
    wait_for(lambda: second.succeeded(rerun.id), "the rerun to finish")

    assert Counter(calendar()) == reference


def test_worker_killed_mid_reminders_then_restarted(start_worker, redis_server):
    first = start_worker("remind-killed", wait=False, faults={"FAULTS_HOLD": "remind:10"})
    made = engagements(6)
    Occurrence.objects.all().delete()
    soon = timezone.now() + timedelta(hours=3)
    occurrences = Occurrence.objects.bulk_create(
        Occurrence(
            engagement=made[n % len(made)],
            deliverable="weekly_call",
            period=f"as_needed:fault-{n}",
            scheduled_start=soon + timedelta(minutes=30 * n),
            method="video",
            duration_minutes=30,
        )
        for n in range(30)
    )

    client = sender(redis_server.url)
    first.wait_ready()
    killed_task = client.send_task(
        "reviews.scheduling.tasks.remind_and_mark_missed", queue=start_worker.queue
    )
    first.wait_for_line("FAULTS: holding reminder #11")
    wait_for(
        lambda: OccurrenceReminder.objects.count() == 10 and backends_idle_in_transaction(),
        "ten reminders sent and the eleventh's transaction held open",
    )
    first.kill()
    assert OccurrenceReminder.objects.count() == 10
    assert Notification.objects.filter(kind="occurrence.reminder").count() == 10 * 4

    second = start_worker("remind-restarted", faults=restart_faults())
    wait_for(lambda: second.succeeded(killed_task.id), "the killed run to be redelivered")
    rerun = client.send_task(
        "reviews.scheduling.tasks.remind_and_mark_missed", queue=start_worker.queue
    )
    wait_for(lambda: second.succeeded(rerun.id), "the rerun to finish")

    assert Counter(OccurrenceReminder.objects.values_list("occurrence_id", flat=True)) == Counter(
        {occurrence.pk: 1 for occurrence in occurrences}
    )
    sent = Counter(
        Notification.objects.filter(kind="occurrence.reminder").values_list("dedupe_key", flat=True)
    )
    expected = {
        f"occurrence:{occurrence.pk}:reminder:{person.pk}"
        for occurrence in Occurrence.objects.filter(pk__in=[o.pk for o in occurrences])
        for person in participants(occurrence)
    }
    assert len(expected) == 30 * 4  # manager, deputy and two contacts each
    assert sent == Counter({key: 1 for key in expected})
    assert OutboxEmail.objects.filter(notification__kind="occurrence.reminder").count() == len(
        expected
    )
    assert not OutboxEmail.objects.filter(notification__isnull=True).exists()
