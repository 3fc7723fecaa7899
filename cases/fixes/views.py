"""Fix requests, software performance reports (service function `software_performance_report`):
pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cases.fixes import services
from cases.fixes.forms import FixRequestForm, VendorStatusForm
from cases.fixes.models import FixRequest
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, entitled_page
from engagements.selectors import serves
from portal.errors import InvalidInput, NotAllowed
from portal.http import AuthenticatedHttpRequest
from portal.pages import apply_domain_error


@entitled_page(FunctionCode.SOFTWARE_PERFORMANCE_REPORTS)
def fix_request_list(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    fixes = list(FixRequest.objects.filter(engagement=engagement).select_related("case"))
    ranked = sorted((fix for fix in fixes if fix.is_open), key=lambda f: (f.customer_rank, f.pk))
    closed = sorted(
        (fix for fix in fixes if not fix.is_open), key=lambda f: (f.updated_at, f.pk), reverse=True
    )
    contact = is_active_contact(engagement, request.user)
    return render(
        request,
        "cases/fixes/fix_list.html",
        {
            "engagement": engagement,
            "ranked": ranked,
            "closed": closed,
            "may_rank": contact,
            "may_request": contact or serves(request.user, engagement),
            "is_staff": serves(request.user, engagement),
        },
    )


@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.SOFTWARE_PERFORMANCE_REPORTS)
def fix_request_create(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    if not (serves(request.user, engagement) or is_active_contact(engagement, request.user)):
        raise NotAllowed(_("Only the engagement's named contacts and staff request fixes."))
    form = FixRequestForm(request.POST or None, engagement=engagement)
    if request.method == "POST" and form.is_valid():
        try:
            fix = services.fix_request_create(
                acting_user=request.user, engagement=engagement, **form.cleaned_data
            )
        except InvalidInput as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The fix request was added at the end of the ranking."))
            return redirect(f"{services.fixes_url(engagement.pk)}#fix-{fix.pk}")
    return render(request, "cases/fixes/fix_form.html", {"engagement": engagement, "form": form})


def _order_from_post(request: HttpRequest) -> list[int]:
    """The new order from the rank inputs (`rank-<id>` = position): by the number entered,
    ties kept in the current order (the inputs come in the current order)."""
    entries: list[tuple[int, int, int]] = []
    for index, (name, value) in enumerate(request.POST.items()):
        if not name.startswith("rank-"):
            continue
        try:
            # QueryDict.items() gives each name's last value, a str; the stub allows a list.
            pk, position = int(name.removeprefix("rank-")), int(value)  # type: ignore[arg-type]
        except ValueError as exc:
            raise InvalidInput(fields={"order": [_("Enter whole numbers.")]}) from exc
        entries.append((position, index, pk))
    return [pk for _position, _index, pk in sorted(entries)]


@require_POST
@entitled_page(FunctionCode.SOFTWARE_PERFORMANCE_REPORTS)
def fix_request_rank(request: AuthenticatedHttpRequest, engagement: Engagement) -> HttpResponse:
    try:
        services.fix_request_rank(
            acting_user=request.user, engagement=engagement, ordered_ids=_order_from_post(request)
        )
    except InvalidInput as error:
        messages.error(request, " ".join(str(m) for ms in error.fields.values() for m in ms))
    else:
        messages.success(request, _("The ranking was saved."))
    return redirect(services.fixes_url(engagement.pk))


@require_http_methods(["GET", "POST"])
@entitled_page(FunctionCode.SOFTWARE_PERFORMANCE_REPORTS)
def fix_request_vendor(
    request: AuthenticatedHttpRequest, engagement: Engagement, fix_pk: int
) -> HttpResponse:
    fix = get_object_or_404(FixRequest.objects.filter(engagement=engagement), pk=fix_pk)
    if not serves(request.user, engagement):
        raise NotAllowed(_("Only the engagement's staff set the vendor status."))
    form = VendorStatusForm(
        request.POST or None,
        initial={"vendor_status": fix.vendor_status, "target_release": fix.target_release},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.fix_request_set_vendor_status(
                acting_user=request.user, fix_request=fix, **form.cleaned_data
            )
        except InvalidInput as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The vendor status was saved."))
            return redirect(f"{services.fixes_url(engagement.pk)}#fix-{fix.pk}")
    return render(
        request,
        "cases/fixes/fix_vendor.html",
        {"engagement": engagement, "fix": fix, "form": form},
    )
