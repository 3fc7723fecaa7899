"""The entitlement gate: the one place that decides whether a service function (SPEC Table 1) is
in an engagement's plan. Services, selectors, pages, the API and templates all ask it.

- `FunctionCode`: the codes of the seeded catalog (engagements/migrations/0002_seed_catalog.py).
  App code names a function only through it; tests/engagements/test_gate.py fails on a literal.
- `is_entitled` / `require_entitlement`: one engagement. `require_entitlement` raises
  `NotEntitled` (HTTP 403, code `not_entitled`, naming the function). The plan's codes are read
  once per plan instance, so a grid change takes effect with the next request.
- `entitled_engagements` / `require_any_entitlement`: the same rule as a query, for lists and
  for provider-wide content shown to customers whose plans include a function.
- `entitled_page(code)`: decorator of function-based pages taking the engagement pk.
- `EntitledViewSetMixin`: DRF viewsets of one function's rows (`function_code` attribute).
- Templates: the filter `engagement|entitled:"code"` (engagements/templatetags/engagements.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import wraps
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from engagements.catalog.models import Plan, ServiceFunction
from engagements.catalog.selectors import CatalogSnapshot, catalog_snapshot
from engagements.contracts.models import Engagement
from portal.errors import NotAllowed, NotEntitled

if TYPE_CHECKING:
    from portal.accounts.models import User


class FunctionCode(StrEnum):
    """The service functions of SPEC Table 1, by their catalog code."""

    CUSTOMER_ENABLEMENT = "customer_enablement"
    SERVICE_REVIEW = "service_review"
    MAINTENANCE = "maintenance"
    UPGRADE_PLANNING = "upgrade_planning"
    ROOT_CAUSE_ANALYSIS = "root_cause_analysis"
    CUSTOMER_INTELLIGENCE = "customer_intelligence"
    PRODUCT_ROADMAP = "product_roadmap"
    RELEASE_MANAGEMENT = "release_management"
    CUSTOMER_ADVOCACY = "customer_advocacy"
    VENDOR_SPOKESPERSON = "vendor_spokesperson"
    RISK_MITIGATION = "risk_mitigation"
    SOFTWARE_PERFORMANCE_REPORTS = "software_performance_reports"
    ENVIRONMENT_CONSULTING = "environment_consulting"
    ESCALATION_MANAGEMENT = "escalation_management"
    CASE_MANAGEMENT = "case_management"


# --- One engagement ----------------------------------------------------------------------------


def plan_function_codes(plan: Plan) -> frozenset[str]:
    """The plan's function codes, cached on the plan instance for the rest of the request."""
    cached = getattr(plan, "_function_codes", None)
    if cached is None:
        cached = frozenset(plan.entitlements.values_list("function__code", flat=True))
        plan._function_codes = cached
    return cached


def prime_function_codes(
    engagements: Iterable[Engagement], snapshot: CatalogSnapshot | None = None
) -> None:
    """Fill the per-plan cache of every engagement's plan from the catalog snapshot (lists of
    cards; `snapshot` when the caller read it already): no query while it is cached, and
    dropped on any change of the matrix."""
    snapshot = snapshot or catalog_snapshot()
    for engagement in engagements:
        engagement.plan._function_codes = snapshot.codes_of(engagement.plan_id)


def is_entitled(engagement: Engagement, code: FunctionCode | str) -> bool:
    """Does the engagement's plan include the function? (A `str` is a code given as input, such
    as a requested deliverable.)"""
    return code in plan_function_codes(engagement.plan)


def _function_name(code: str) -> str:
    function = ServiceFunction.objects.filter(code=code).first()
    return function.display_name if function else code


def require_entitlement(engagement: Engagement, code: FunctionCode | str) -> None:
    """Raise `NotEntitled` naming the function unless the engagement's plan includes it."""
    if not is_entitled(engagement, code):
        raise NotEntitled(
            _("The %(plan)s plan of this engagement does not include %(function)s.")
            % {"plan": engagement.plan.display_name, "function": _function_name(code)},
            fields={"function": [str(code)]},
        )


# --- Many engagements --------------------------------------------------------------------------


def entitled_engagements(code: FunctionCode) -> QuerySet[Engagement]:
    """Engagements (in scope) whose plan includes the function: one join, no query per plan."""
    return Engagement.objects.filter(plan__entitlements__function__code=code)


def entitled_plan_ids(code: FunctionCode) -> list[int]:
    """The plans that include the function, from the cached catalog (no query when cached).

    In a statement kept across requests (`rows_compiled_once`), pass them as values, never
    build them in: they are the catalog of the moment, and a kept statement would keep them
    past a change of the matrix."""
    return sorted(
        plan_id for plan_id, codes in catalog_snapshot().plan_codes.items() if code in codes
    )


def has_entitled_engagement(user: User, code: FunctionCode) -> bool:
    """Staff always; a customer when one of their engagements' plans includes the function."""
    if user.is_provider_staff:
        return True
    return entitled_engagements(code).exists()


def require_any_entitlement(user: User, code: FunctionCode) -> None:
    """The gate of provider-wide content (the enablement catalog): `NotEntitled` unless one of
    the user's engagements' plans includes the function (staff always pass)."""
    if not has_entitled_engagement(user, code):
        raise NotEntitled(
            _("The plans of your engagements do not include %(function)s.")
            % {"function": _function_name(code)},
            fields={"function": [str(code)]},
        )


# --- Pages -------------------------------------------------------------------------------------

View = Callable[..., HttpResponse]


def entitled_page(code: FunctionCode) -> Callable[[View], View]:
    """Function-based pages `view(request, engagement, ...)` routed with the engagement's `pk`:
    signed-in users; the engagement through the tenant scope (another tenant's answers 404 like
    a missing one), then the plan: the 403 page naming the function where it lacks it. A
    `NotAllowed` or `NotEntitled` the view raises answers the same 403 page."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
            engagement = get_object_or_404(
                Engagement.objects.select_related("organization", "plan", "manager", "deputy"),
                pk=pk,
            )
            try:
                require_entitlement(engagement, code)
                return view(request, engagement, *args, **kwargs)
            except (NotAllowed, NotEntitled) as error:
                return render(request, "403.html", {"detail": error.detail}, status=403)

        return wrapper

    return decorate


# --- API ---------------------------------------------------------------------------------------


class EntitledViewSetMixin:
    """DRF viewsets of one service function's rows (each with an `engagement`).

    Lists show only rows of engagements whose plan includes `function_code`; naming one that
    lacks it (`?engagement=`) answers 403 `not_entitled`. A row named by id of such an engagement
    answers 403 `not_entitled` too, or, with `hide_unentitled_rows`, 404 like a missing one (the
    queryset of every action leaves it out, at no extra query)."""

    function_code: ClassVar[FunctionCode]
    hide_unentitled_rows: ClassVar[bool] = False
    request: Any

    def entitled_rows(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(engagement__in=entitled_engagements(self.function_code))

    def _refuse_named_engagement(self) -> None:
        raw = self.request.query_params.get("engagement", "").strip()
        if raw.isdigit():
            engagement = Engagement.objects.select_related("plan").filter(pk=int(raw)).first()
            if engagement is not None:  # a missing one fails as the filter's validation error
                require_entitlement(engagement, self.function_code)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if getattr(self, "action", None) == "list":
            self._refuse_named_engagement()
        if getattr(self, "action", None) == "list" or self.hide_unentitled_rows:
            queryset = self.entitled_rows(queryset)
        return super().filter_queryset(queryset)  # type: ignore[misc]

    def get_object(self) -> Any:
        row = super().get_object()  # type: ignore[misc]
        if not self.hide_unentitled_rows:
            require_entitlement(row.engagement, self.function_code)
        return row
