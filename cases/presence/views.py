"""Who is replying on a case: the reply box's heartbeat and the fragment the case page polls."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from cases.casework.views import case_or_404
from cases.presence.selectors import writers_on
from cases.presence.services import presence_beat, presence_end
from engagements.contacts.selectors import is_active_contact
from engagements.selectors import serves
from portal.http import AuthenticatedHttpRequest
from portal.live import fragment_response


@login_required
@require_POST
def case_presence(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A heartbeat of the reply box (`state=stop`: left it). Whoever may reply: the staff who
    serve the case and its active named contacts; an internal note only from the staff."""
    case = case_or_404(pk)
    staff = serves(request.user, case.engagement)
    if not staff and not is_active_contact(case.engagement, request.user):
        raise PermissionDenied
    if request.POST.get("state") == "stop":
        presence_end(acting_user=request.user, case=case)
    else:
        internal = staff and bool(request.POST.get("internal"))
        presence_beat(acting_user=request.user, case=case, internal=internal)
    return HttpResponse(status=204)


@login_required
@require_GET
def case_presence_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """ "Minji is replying…": everyone else writing on the case, for whoever sees the case;
    internal notes only for the staff."""
    case = case_or_404(pk)
    writers = writers_on(case, viewer=request.user, staff=serves(request.user, case.engagement))
    return fragment_response(
        request,
        render_to_string("cases/presence/_writers.html", {"writers": writers}, request),
    )
