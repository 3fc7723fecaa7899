"""The customer's home reads its lists through indexes and ids first, and its cards without a
subquery (issue 17): the page stays byte for byte what the straightforward reading renders —
the reading the home had before, kept here as the reference — in English and in Korean."""

import itertools
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

import portal.site.views
from cases.casework import selectors as casework_selectors
from cases.casework.models import Case
from cases.casework.selectors import (
    HOME_OPEN_ITEMS,
    HOME_RESOLVED_DAYS,
    HOME_RESOLVED_ITEMS,
    HOME_WAITING_ITEMS,
    CaseRowText,
    CustomerHome,
)
from cases.sla import Sla, sla_condition
from engagements.afterhours.models import AfterHoursRequest
from engagements.contacts.models import Contact
from engagements.contracts import selectors as contract_selectors
from engagements.contracts.models import Engagement, EngagementHoliday
from tests.conftest import acting_as
from tests.conftest import page_client as signed_in
from tests.portal.test_home import at_risk, breached, raise_case

pytestmark = pytest.mark.django_db
_serial = itertools.count(1)


def reference_customer_home(organization_ids, now, engagements=()):
    """The home's lists read the plain way: every row with its columns, sorted and cut."""
    items = Case.objects.filter(engagement__organization_id__in=list(organization_ids))
    open_items = items.filter(status__in=Case.OPEN_STATUSES)
    counts = open_items.aggregate(
        open=Count("pk"),
        at_risk=Count("pk", filter=sla_condition(Sla.AT_RISK, now)),
        breached=Count("pk", filter=sla_condition(Sla.BREACHED, now)),
        waiting=Count("pk", filter=Q(status=Case.Status.AWAITING_CUSTOMER)),
    )
    answered = ExpressionWrapper(Q(first_response_at__isnull=False), output_field=BooleanField())
    since = now - timedelta(days=HOME_RESOLVED_DAYS)
    urgent = list(
        open_items.exclude(status=Case.Status.AWAITING_CUSTOMER)
        .annotate(answered=answered)
        .order_by("answered", "response_due_at", "pk")[:HOME_OPEN_ITEMS]
    )
    waiting = list(
        open_items.filter(status=Case.Status.AWAITING_CUSTOMER).order_by("updated_at", "pk")[
            :HOME_WAITING_ITEMS
        ]
    )
    resolved = list(
        items.filter(status__in=(Case.Status.RESOLVED, Case.Status.CLOSED))
        .filter(Q(resolved_at__gte=since) | Q(resolved_at__isnull=True, closed_at__gte=since))
        .order_by(Coalesce("resolved_at", "closed_at").desc(), "-pk")[:HOME_RESOLVED_ITEMS]
    )
    by_id = {engagement.pk: engagement for engagement in engagements}
    for case in [*urgent, *waiting, *resolved]:
        if case.engagement_id not in by_id:
            by_id[case.engagement_id] = Engagement.objects.select_related(
                "organization", "plan"
            ).get(pk=case.engagement_id)
        case.engagement = by_id[case.engagement_id]
    text = CaseRowText(now)
    return CustomerHome(
        open_count=counts["open"],
        at_risk_count=counts["at_risk"],
        breached_count=counts["breached"],
        open_items=[text.row(case, assignee=False, countdown=True) for case in urgent],
        waiting=[text.row(case, assignee=False, waiting=True) for case in waiting],
        waiting_count=counts["waiting"],
        resolved=[text.row(case, assignee=False, ended=True) for case in resolved],
    )


def reference_engagement_cards(queryset=None, *, user, now=None, organization_ids=None):
    """The cards of the engagements whose ids a subquery of `queryset` (or of the engagements
    of `organization_ids`) gives, every card with the overage column (the reading before issue
    17's)."""
    if organization_ids is not None:
        queryset = Engagement.objects.filter(organization_id__in=organization_ids)
    plain = contract_selectors._engagements
    annotated = contract_selectors._with_overage(plain())
    if user.is_customer:
        annotated = annotated.annotate(
            viewer_is_contact=Exists(
                Contact.objects.filter(
                    engagement=OuterRef("pk"), user=user, removed_at__isnull=True
                )
            )
        )
    ids = list(queryset.values_list("pk", flat=True))
    with mock.patch.object(contract_selectors, "_engagements", lambda: annotated):
        return contract_selectors.engagement_cards(
            Engagement.objects.filter(pk__in=ids), user=user, now=now
        )


def populate(world):
    """Items of every list's kind, some beyond each list's length, on two engagements (one
    ended long ago), with ties in the sort keys."""
    now = timezone.now()
    tenant = world.a
    engagement = tenant.objects["engagement"]
    old = Engagement.objects.create(
        organization=engagement.organization,
        plan=engagement.plan,
        name="Earlier contract",
        start_date=now.date() - timedelta(days=800),
        end_date=now.date() - timedelta(days=400),
        manager=engagement.manager,
    )
    same_due = now - timedelta(hours=3)  # as `breached` items: ties broken by id
    for step in range(14):
        raise_case(tenant, f"Open {step}", **(breached(now) if step % 3 else at_risk(now)))
        raise_case(tenant, f"Tied {step}", response_due_at=same_due)
        raise_case(
            tenant, f"Answered {step}", status=Case.Status.IN_PROGRESS, first_response_at=now
        )
        raise_case(
            tenant,
            f"Waiting {step}",
            status=Case.Status.AWAITING_CUSTOMER,
            first_response_at=now,
            updated_at=now - timedelta(days=step % 4),
        )
        raise_case(
            tenant,
            f"Resolved {step}",
            status=Case.Status.RESOLVED,
            resolved_at=now - timedelta(days=step % 20, hours=step),
        )
        raise_case(
            tenant,
            f"Closed unresolved {step}",
            status=Case.Status.CLOSED,
            closed_at=now - timedelta(days=step % 16),
        )
        raise_case(
            tenant,
            f"Resolved long ago, closed lately {step}",
            status=Case.Status.CLOSED,
            resolved_at=now - timedelta(days=30),
            closed_at=now - timedelta(days=1),
        )
    for case in Case.objects.filter(subject__in=["Open 2", "Resolved 3", "Waiting 5"]):
        Case.objects.filter(pk=case.pk).update(engagement=old)
    # The card's calendar: an added holiday, approved windows to come (one past, one pending).
    EngagementHoliday.objects.create(
        engagement=engagement, date=now.date() + timedelta(days=2), name="Founders' day"
    )
    for days, status in ((3, "approved"), (-3, "approved"), (4, "pending"), (1, "approved")):
        AfterHoursRequest.objects.create(
            engagement=engagement,
            requested_by=tenant.poc,
            starts_at=now + timedelta(days=days),
            ends_at=now + timedelta(days=days, hours=2),
            reason="Cut-over",
            status=status,
        )


def rendered(user, language):
    body = signed_in(user).get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE=language).content
    return re.sub(rb'"X-CSRFToken": "[^"]+"', b'"X-CSRFToken": ""', body)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_home_renders_what_the_straightforward_reading_renders(world, language):
    populate(world)
    poc = world.a.poc
    poc.language = language
    poc.save()
    now = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=now):
        page = rendered(poc, language)
        with (
            mock.patch.object(portal.site.views, "customer_home", reference_customer_home),
            mock.patch.object(portal.site.views, "engagement_cards", reference_engagement_cards),
        ):
            reference = rendered(poc, language)
    assert page == reference
    for subject in ("Open 2", "Waiting 5", "Resolved 3", "Closed unresolved 0", "Tied 0"):
        assert subject.encode() in page, subject  # the lists are not empty


def test_the_lists_are_the_straightforward_reading_s(world):
    populate(world)
    now = timezone.now()
    organization_ids = [world.a.objects["engagement"].organization_id]
    with acting_as(world.a.poc):
        home = casework_selectors.customer_home(organization_ids, now)
        reference = reference_customer_home(organization_ids, now)
    assert home == reference
    assert len(home.open_items) == HOME_OPEN_ITEMS
    assert len(home.waiting) == HOME_WAITING_ITEMS
    assert len(home.resolved) == HOME_RESOLVED_ITEMS


def test_the_cards_read_their_calendars_added_holidays_and_windows_to_come(world):
    """The cards' own statements (compiled once): the approved windows still to come, earliest
    first, and the added holidays from yesterday on, each on its engagement's card."""
    populate(world)
    now = timezone.now()
    engagement = world.a.objects["engagement"]
    organization_ids = [engagement.organization_id]
    expected = sorted(
        AfterHoursRequest.objects.filter(
            engagement=engagement, status="approved", ends_at__gt=now
        ).values_list("starts_at", flat=True)
    )
    assert len(expected) == 2  # of the four: not the past one, not the pending one
    holiday = EngagementHoliday.objects.get(engagement=engagement).date
    for _ in range(2):  # built, then kept
        with acting_as(world.a.poc):
            cards = contract_selectors.engagement_cards(
                user=world.a.poc, now=now, organization_ids=organization_ids
            )
        (card,) = [card for card in cards if card.engagement.pk == engagement.pk]
        assert [window.starts_at for window in card.windows] == expected
        calendar = contract_selectors._prefetched_calendar(card.engagement, now)
        assert holiday in calendar.holidays
        assert len(calendar.extra_windows) == 2
    with acting_as(world.b.poc):  # another tenant's cards: none of A's
        assert (
            contract_selectors.engagement_cards(
                user=world.b.poc, now=now, organization_ids=organization_ids
            )
            == []
        )


def test_cards_of_a_queryset_read_the_engagements_once(world):
    """The staff panels pass a queryset: it joins the cards' one statement, never run first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    engagement = world.a.objects["engagement"]
    with acting_as(world.manager), CaptureQueriesContext(connection) as queries:
        cards = contract_selectors.engagement_cards(
            contract_selectors.served_by(world.manager), user=world.manager
        )
    assert [card.engagement.pk for card in cards] == [engagement.pk]
    rows = 'SELECT "engagements_engagement"."id", "engagements_engagement"."organization_id"'
    reads = [q["sql"] for q in queries if q["sql"].startswith(rows)]  # not the scope's ids
    assert len(reads) == 1, reads
