"""Engagement health: the score from its inputs. Pure (no ORM): `score_health` is the rule.

A score starts at 100 and each factor deducts points by tiers of its raw figure, so a manager
sees which factor cost how much, against which threshold. The level follows the score:
healthy from 80, watch from 60, at risk below. The figures come from `selectors.health_inputs`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import get_language, ngettext, pgettext_lazy
from django.utils.translation import gettext as _

WINDOW_DAYS = 90  # SLA attainment and sessions look back this far
SLA_TARGET_PCT = 95  # at or above: no deduction
SLA_FLOOR_PCT = 80  # below: the full deduction
SLA_POINTS = (15, 30)  # below the target, below the floor
SESSION_POINTS_EACH, SESSION_POINTS_MAX = 10, 20
SEV0_POINTS_EACH, SEV1_POINTS_EACH, SEVERE_POINTS_MAX = 15, 5, 25
ACTION_POINTS_EACH, ACTION_POINTS_MAX = 5, 15
HOURS_WATCH_PCT = 100  # a 4-week average above the cap
HOURS_ALERT_PCT = 120
HOURS_POINTS = (5, 10)
HEALTHY_FROM, WATCH_FROM = 80, 60


class Level(StrEnum):
    HEALTHY = "healthy"
    WATCH = "watch"
    AT_RISK = "at_risk"


# In their own context: the SLA's "At risk" (기한 임박) is another thing.
LEVEL_LABELS = {
    Level.HEALTHY: pgettext_lazy("engagement health", "Healthy"),
    Level.WATCH: pgettext_lazy("engagement health", "Watch"),
    Level.AT_RISK: pgettext_lazy("engagement health", "At risk"),
}


@dataclass(frozen=True)
class HealthInputs:
    """The raw figures of one engagement (see `selectors.health_inputs` for their definitions)."""

    items_due: int = 0  # response objectives that fell due in the window
    items_met: int = 0  # of those, answered by their due time
    sessions_missed: int = 0  # marked missed in the window
    sessions_overdue: int = 0  # past their start (and a day's grace), still not completed
    open_sev0: int = 0
    open_sev1: int = 0
    action_items_overdue: int = 0
    average_minutes: int = 0  # trailing 4 full weeks' average
    cap_minutes: int = 0  # the plan's weekly cap

    @property
    def attainment_pct(self) -> float | None:
        return round(100 * self.items_met / self.items_due, 1) if self.items_due else None

    @property
    def hours_pct(self) -> int | None:
        return round(100 * self.average_minutes / self.cap_minutes) if self.cap_minutes else None


@dataclass(frozen=True)
class Factor:
    """One factor's contribution: its raw figure, its threshold (both as text), the points it
    deducted of `max_points`."""

    code: str
    label: str
    figure: str
    threshold: str
    points: int
    max_points: int

    @property
    def ok(self) -> bool:
        return self.points == 0


@dataclass(frozen=True)
class Health:
    score: int
    level: Level
    factors: tuple[Factor, ...]

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS[self.level])

    @property
    def reasons(self) -> tuple[Factor, ...]:
        """The factors that deducted points, the costliest first."""
        return tuple(sorted((f for f in self.factors if f.points), key=lambda f: -f.points))


def level_of(score: int) -> Level:
    if score >= HEALTHY_FROM:
        return Level.HEALTHY
    if score >= WATCH_FROM:
        return Level.WATCH
    return Level.AT_RISK


def _sla(inputs: HealthInputs) -> Factor:
    due, met = inputs.items_due, inputs.items_met
    if not due:
        points, figure = 0, _("No response objective fell due")
    else:
        # Compared in whole numbers: 19 of 20 is exactly 95 %, with no rounding at the edge.
        if met * 100 >= SLA_TARGET_PCT * due:
            points = 0
        elif met * 100 >= SLA_FLOOR_PCT * due:
            points = SLA_POINTS[0]
        else:
            points = SLA_POINTS[1]
        figure = _("%(pct)s %% (%(met)s of %(due)s met)") % {
            "pct": inputs.attainment_pct,
            "met": met,
            "due": due,
        }
    return Factor(
        code="sla",
        label=_("Response objectives met (last %(days)s days)") % {"days": WINDOW_DAYS},
        figure=figure,
        threshold=_("at least %(target)s %%; below %(floor)s %% costs %(most)s points")
        % {"target": SLA_TARGET_PCT, "floor": SLA_FLOOR_PCT, "most": SLA_POINTS[1]},
        points=points,
        max_points=SLA_POINTS[1],
    )


def _sessions(inputs: HealthInputs) -> Factor:
    count = inputs.sessions_missed + inputs.sessions_overdue
    return Factor(
        code="sessions",
        label=_("Missed or overdue sessions (last %(days)s days)") % {"days": WINDOW_DAYS},
        figure=_("%(missed)s missed, %(overdue)s not recorded")
        % {"missed": inputs.sessions_missed, "overdue": inputs.sessions_overdue},
        threshold=_("none; %(each)s points each, at most %(most)s")
        % {"each": SESSION_POINTS_EACH, "most": SESSION_POINTS_MAX},
        points=min(SESSION_POINTS_MAX, SESSION_POINTS_EACH * count),
        max_points=SESSION_POINTS_MAX,
    )


def _severe(inputs: HealthInputs) -> Factor:
    points = SEV0_POINTS_EACH * inputs.open_sev0 + SEV1_POINTS_EACH * inputs.open_sev1
    return Factor(
        code="severe_items",
        label=_("Open severity 0 and 1 items"),
        figure=_("%(sev0)s severity 0, %(sev1)s severity 1")
        % {"sev0": inputs.open_sev0, "sev1": inputs.open_sev1},
        threshold=_(
            "none; %(sev0)s points per severity 0, %(sev1)s per severity 1, at most %(most)s"
        )
        % {"sev0": SEV0_POINTS_EACH, "sev1": SEV1_POINTS_EACH, "most": SEVERE_POINTS_MAX},
        points=min(SEVERE_POINTS_MAX, points),
        max_points=SEVERE_POINTS_MAX,
    )


def _action_items(inputs: HealthInputs) -> Factor:
    count = inputs.action_items_overdue
    return Factor(
        code="action_items",
        label=_("Overdue action items"),
        figure=ngettext("%(count)s overdue", "%(count)s overdue", count) % {"count": count},
        threshold=_("none; %(each)s points each, at most %(most)s")
        % {"each": ACTION_POINTS_EACH, "most": ACTION_POINTS_MAX},
        points=min(ACTION_POINTS_MAX, ACTION_POINTS_EACH * count),
        max_points=ACTION_POINTS_MAX,
    )


def _hours(inputs: HealthInputs) -> Factor:
    pct = inputs.hours_pct
    # Compared in whole numbers, as attainment is: one minute over the cap is over it.
    over = 100 * inputs.average_minutes
    if not inputs.cap_minutes or over <= HOURS_WATCH_PCT * inputs.cap_minutes:
        points = 0
    elif over <= HOURS_ALERT_PCT * inputs.cap_minutes:
        points = HOURS_POINTS[0]
    else:
        points = HOURS_POINTS[1]
    return Factor(
        code="hours",
        label=_("Hours against the weekly cap (4-week average)"),
        figure=_("%(pct)s %% of the cap") % {"pct": pct if pct is not None else 0},
        threshold=_("at most %(watch)s %%; over %(alert)s %% costs %(most)s points")
        % {"watch": HOURS_WATCH_PCT, "alert": HOURS_ALERT_PCT, "most": HOURS_POINTS[1]},
        points=points,
        max_points=HOURS_POINTS[1],
    )


def score_health(inputs: HealthInputs) -> Health:
    """100 less each factor's deduction (the deductions add up to at most 100)."""
    return _scored(get_language(), inputs)


# Pure in its inputs and the active language (the factors' texts), so remembered: the board and
# the admin's overview score every engagement on each request (some 400 translations for 33),
# mostly with the figures of the request before. Immutable results, a bounded cache.
@functools.lru_cache(maxsize=4096)
def _scored(language: str | None, inputs: HealthInputs) -> Health:
    factors = (
        _sla(inputs),
        _sessions(inputs),
        _severe(inputs),
        _action_items(inputs),
        _hours(inputs),
    )
    score = max(0, 100 - sum(factor.points for factor in factors))
    return Health(score=score, level=level_of(score), factors=factors)
