"""The entitlement gate every feature uses: is a service function in the engagement's plan?

`require_entitlement` raises `NotEntitled` (HTTP 403, code `not_entitled`, naming the function);
pages hide what `is_entitled` denies (template filter `entitled`).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from engagements.models import Engagement, Plan, ServiceFunction
from portal.errors import NotEntitled


def plan_function_codes(plan: Plan) -> frozenset[str]:
    """The plan's function codes, cached on the plan instance for the rest of the request."""
    cached = getattr(plan, "_function_codes", None)
    if cached is None:
        cached = frozenset(plan.entitlements.values_list("function__code", flat=True))
        plan._function_codes = cached
    return cached


def entitled_to(function_code: str) -> dict[str, str]:
    """The lookup narrowing a query to engagements whose plan includes the function."""
    return {"engagement__plan__entitlements__function__code": function_code}


def is_entitled(engagement: Engagement, function_code: str) -> bool:
    return function_code in plan_function_codes(engagement.plan)


def require_entitlement(engagement: Engagement, function_code: str) -> None:
    if not is_entitled(engagement, function_code):
        function = ServiceFunction.objects.filter(code=function_code).first()
        name = function.name if function else function_code
        raise NotEntitled(
            _("The %(plan)s plan of this engagement does not include %(function)s.")
            % {"plan": engagement.plan.name, "function": name},
            fields={"function": [function_code]},
        )
