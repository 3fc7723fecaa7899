"""Global search: reads.

A query is split into words; a row matches when every word is found (case-insensitively, as a
substring) in one of its kind's fields, so a Korean word inside a sentence matches as an English
one does (Korean has no stemming configuration in PostgreSQL, and particles stick to words):

- cases: subject, description, comments and responses (internal notes only for provider
  staff), or the item's number (`123`, `#123`);
- engagements: name, organization, plan;
- organizations: name, short name;
- sessions: what they deliver (its name), minutes, request note, other attendees.

Every query goes through the models' scoped managers, so each viewer finds exactly what they
may open. On PostgreSQL the substring tests use the trigram indexes of migration
`reviews/0005_search_trigram_indexes` and cases are ranked by word hits (subject before
description before comments) and then by full-text rank (`ts_rank`, 'simple' configuration);
elsewhere by the word hits alone. Ties: newest first. Constant queries: per kind one count and
one page of rows (sessions: one more for the deliverables' names).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from operator import and_
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import models
from django.db.models import FloatField, Q, QuerySet, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.casework.models import Case, CaseEvent
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.db import is_postgresql
from portal.tenancy.models import Organization
from reviews.scheduling.models import Occurrence
from reviews.scheduling.selectors import (
    STATE_LABELS,
    deliverable_labels,
    deliverable_names_in_every_language,
    occurrence_state,
)

MIN_LENGTH = 2  # Korean words are often two syllables (서버, 장애)
MAX_LENGTH = 100
MAX_WORDS = 8
GROUP_LIMIT = 10  # rows of each kind on the overview; `type=` pages through one kind
API_LIMIT = 20  # rows of each kind the API answers
PAGE_SIZE = 25
SNIPPET_WIDTH = 160
_MAX_PK = 2**31 - 1


class Kind(models.TextChoices):
    CASE = "case", _("Cases")
    ENGAGEMENT = "engagement", _("Engagements")
    ORGANIZATION = "organization", _("Organizations")
    SESSION = "session", _("Sessions")


@dataclass
class Hit:
    """One found row, as the page and the API show it."""

    kind: str
    pk: int
    title: str
    url: str
    organization: str = ""
    engagement: str = ""
    status: str = ""  # the row's status code
    status_label: str = ""
    at: datetime | None = None  # received (cases), scheduled (sessions)
    snippet: str = ""  # plain text around the first word found
    in_comment: bool = False  # a case found by its comments only


@dataclass
class Group:
    kind: str
    label: Promise
    count: int
    hits: list[Hit] = field(default_factory=list)


def query_words(query: str) -> list[str]:
    """The distinct words of a query, in order (case-insensitively distinct)."""
    words: list[str] = []
    seen: set[str] = set()
    for word in query.split():
        if word.casefold() not in seen:
            seen.add(word.casefold())
            words.append(word)
    return words


def words_pattern(words: Sequence[str]) -> re.Pattern[str]:
    """Finds any of the words in a text (longest first, ignoring case)."""
    ordered = sorted(words, key=len, reverse=True)
    return re.compile("|".join(re.escape(word) for word in ordered), re.IGNORECASE)


def snippet(text: str, words: Sequence[str], width: int = SNIPPET_WIDTH) -> str:
    """About `width` characters of `text` around the first word found (its start if none)."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    found = words_pattern(words).search(flat) if words else None
    start = max(0, found.start() - width // 3) if found else 0
    end = min(len(flat), start + width)
    start = max(0, end - width)
    return f"{'…' if start else ''}{flat[start:end].strip()}{'…' if end < len(flat) else ''}"


def _all_words(words: Sequence[str], condition: Callable[[str], Q]) -> Q:
    """Every word matches (each in any of the kind's fields)."""
    return reduce(and_, (condition(word) for word in words), Q())


def _case_number(word: str) -> int | None:
    digits = word.removeprefix("#")
    if digits.isdigit() and len(digits) <= 10 and 0 < int(digits) <= _MAX_PK:
        return int(digits)
    return None


# --- Cases ------------------------------------------------------------------------------------


def _commented(user: User, word: str) -> QuerySet[Any]:
    """Ids of the items whose comments or responses hold `word`; internal notes only for
    provider staff (their scope holds only the engagements they serve, whose notes they
    read)."""
    comments = CaseEvent.objects.filter(
        kind__in=(CaseEvent.Kind.COMMENT, CaseEvent.Kind.RESPONSE), body__icontains=word
    )
    if not user.is_provider_staff:
        comments = comments.filter(public=True)
    return comments.order_by().values("case_id")


def case_matches(user: User, words: Sequence[str]) -> QuerySet[Case]:
    """The items (in the viewer's scope) each word is found in, unordered.

    Each word's items are one union of ids (subject or description, comments, number), so
    PostgreSQL reads each branch from its trigram index instead of filtering every row."""

    def condition(word: str) -> Q:
        found = (
            Case.objects.filter(Q(subject__icontains=word) | Q(description__icontains=word))
            .order_by()
            .values("pk")
            .union(_commented(user, word))
        )
        number = _case_number(word)
        if number is not None:
            found = found.union(Case.objects.filter(pk=number).order_by().values("pk"))
        return Q(pk__in=found)

    return Case.objects.filter(_all_words(words, condition))


def ranked_cases(user: User, words: Sequence[str]) -> QuerySet[Case]:
    """`case_matches`, best first: word hits in the subject (4) before the description (2)
    before comments (1); then PostgreSQL's full-text rank; then the newest."""
    hits: Any = Value(0)
    for word in words:
        hits += models.Case(
            models.When(subject__icontains=word, then=Value(4)),
            models.When(description__icontains=word, then=Value(2)),
            default=Value(1),
        )
    if is_postgresql():
        vector = SearchVector("subject", weight="A", config="simple") + SearchVector(
            "description", weight="B", config="simple"
        )
        text_rank: Any = SearchRank(
            vector, SearchQuery(" ".join(words), config="simple", search_type="plain")
        )
    else:
        text_rank = Value(0.0, output_field=FloatField())
    return (
        case_matches(user, words)
        .select_related("engagement__organization")
        .annotate(word_hits=hits, text_rank=text_rank)
        .order_by("-word_hits", "-text_rank", "-received_at", "-id")
    )


def _case_number_of(case: Case, words: Sequence[str]) -> bool:
    return any(_case_number(word) == case.pk for word in words)


def case_hit(case: Case, words: Sequence[str]) -> Hit:
    pattern = words_pattern(words)
    in_subject = bool(pattern.search(case.subject))
    in_description = bool(pattern.search(case.description))
    return Hit(
        kind=Kind.CASE,
        pk=case.pk,
        title=f"#{case.pk} {case.subject}",
        url=reverse("case_detail", args=[case.pk]),
        organization=case.engagement.organization.name,
        engagement=str(case.engagement),
        status=case.status,
        status_label=case.get_status_display(),
        at=case.received_at,
        snippet=snippet(case.description, words),
        in_comment=not (in_subject or in_description or _case_number_of(case, words)),
    )


# --- Engagements and organizations ------------------------------------------------------------


def engagement_matches(user: User, words: Sequence[str]) -> QuerySet[Engagement]:
    def condition(word: str) -> Q:
        return (
            Q(name__icontains=word)
            | Q(organization__name__icontains=word)
            | Q(plan__name__icontains=word)
        )

    return (
        Engagement.objects.filter(_all_words(words, condition))
        .select_related("organization", "plan")
        .order_by("organization__name", "name", "-start_date", "id")
    )


def engagement_hit(engagement: Engagement, words: Sequence[str]) -> Hit:
    return Hit(
        kind=Kind.ENGAGEMENT,
        pk=engagement.pk,
        title=str(engagement),
        url=reverse("engagement_detail", args=[engagement.pk]),
        organization=engagement.organization.name,
        status=engagement.status,
        status_label=engagement.get_status_display(),
        snippet=engagement.plan.name,
    )


def organization_matches(user: User, words: Sequence[str]) -> QuerySet[Organization]:
    def condition(word: str) -> Q:
        return Q(name__icontains=word) | Q(slug__icontains=word)

    return Organization.objects.filter(_all_words(words, condition)).order_by("name", "id")


def organization_hit(organization: Organization, words: Sequence[str]) -> Hit:
    return Hit(
        kind=Kind.ORGANIZATION,
        pk=organization.pk,
        title=organization.name,
        url=reverse("organization_detail", args=[organization.pk]),
        status="active" if organization.is_active else "inactive",
        status_label=str(_("Active") if organization.is_active else _("Inactive")),
        snippet=organization.slug,
    )


# --- Sessions ---------------------------------------------------------------------------------


def session_matches(
    user: User, words: Sequence[str], names: dict[str, list[str]]
) -> QuerySet[Occurrence]:
    """Sessions by what they deliver (`names`: deliverable code → its names in every
    language), their minutes, request note and other attendees; newest first."""

    def condition(word: str) -> Q:
        folded = word.casefold()
        codes = [
            code
            for code, spelled in names.items()
            if any(folded in name.casefold() for name in spelled)
        ]
        found = (
            Q(minutes__icontains=word)
            | Q(request_note__icontains=word)
            | Q(other_attendees__icontains=word)
        )
        return found | Q(deliverable__in=codes) if codes else found

    return (
        Occurrence.objects.filter(_all_words(words, condition))
        .select_related("engagement__organization", "engagement__plan")
        .order_by("-scheduled_start", "-id")
    )


def session_hit(
    occurrence: Occurrence, words: Sequence[str], labels: dict[str, str], now: datetime
) -> Hit:
    state = occurrence_state(occurrence, now)
    text = occurrence.minutes or occurrence.request_note or occurrence.other_attendees
    return Hit(
        kind=Kind.SESSION,
        pk=occurrence.pk,
        title=str(labels.get(occurrence.deliverable, occurrence.deliverable)),
        url=reverse("occurrence_detail", args=[occurrence.pk]),
        organization=occurrence.engagement.organization.name,
        engagement=str(occurrence.engagement),
        status=state,
        status_label=str(STATE_LABELS[state]),
        at=occurrence.scheduled_start,
        snippet=snippet(text, words),
    )


# --- All kinds --------------------------------------------------------------------------------


@dataclass
class Search:
    """One viewer's search for `words`: each kind's matches, and how to show a row."""

    user: User
    words: list[str]
    now: datetime = field(default_factory=timezone.now)
    _labels: dict[str, str] | None = None
    _names: dict[str, list[str]] | None = None

    @property
    def labels(self) -> dict[str, str]:
        if self._labels is None:
            self._labels = {code: str(label) for code, label in deliverable_labels().items()}
        return self._labels

    @property
    def names(self) -> dict[str, list[str]]:
        if self._names is None:
            self._names = deliverable_names_in_every_language()
        return self._names

    def matches(self, kind: str) -> QuerySet[Any]:
        if kind == Kind.CASE:
            return ranked_cases(self.user, self.words)
        if kind == Kind.ENGAGEMENT:
            return engagement_matches(self.user, self.words)
        if kind == Kind.ORGANIZATION:
            return organization_matches(self.user, self.words)
        return session_matches(self.user, self.words, self.names)

    def hits(self, kind: str, rows: Sequence[Any]) -> list[Hit]:
        if kind == Kind.CASE:
            return [case_hit(row, self.words) for row in rows]
        if kind == Kind.ENGAGEMENT:
            return [engagement_hit(row, self.words) for row in rows]
        if kind == Kind.ORGANIZATION:
            return [organization_hit(row, self.words) for row in rows]
        return [session_hit(row, self.words, self.labels, self.now) for row in rows]

    def group(self, kind: str, limit: int = GROUP_LIMIT) -> Group:
        """The kind's count and its first `limit` rows: two queries (none for rows when the
        count is 0)."""
        matches = self.matches(kind)
        count = matches.order_by().count()
        rows = list(matches[:limit]) if count else []
        return Group(kind=kind, label=Kind(kind).label, count=count, hits=self.hits(kind, rows))

    def groups(self, kinds: Sequence[str] = Kind.values, limit: int = GROUP_LIMIT) -> list[Group]:
        return [self.group(kind, limit) for kind in kinds]


def search_for(user: User, query: str) -> Search:
    """The search of `query` (already validated) by `user`, in the request's scope."""
    return Search(user=user, words=query_words(query))
