"""Named contacts of an engagement (at most three): pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from engagements.afterhours.models import AfterHoursRequest
from engagements.contacts import services
from engagements.contacts.forms import ContactAddForm
from engagements.contacts.models import Contact
from engagements.contracts.views import engagement_or_404, engagement_url
from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest
from portal.pages import (
    flash_error,
    get_scoped_or_404,
    require_admin,
)

if TYPE_CHECKING:

    class _UpcomingWindows(TypedDict):  # Prefetch(to_attr=) of the dashboard cards
        upcoming_windows: list[AfterHoursRequest]


@login_required
@require_POST
def engagement_contact_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = engagement_or_404(pk)
    require_admin(request.user)
    form = ContactAddForm(request.POST, engagement=engagement)
    if not form.is_valid():
        messages.error(request, _("Choose a person of the organization who is not a contact yet."))
        return redirect(engagement_url(engagement, "contacts"))
    person = form.cleaned_data["user"]
    try:
        services.contact_add(acting_user=request.user, engagement=engagement, user=person)
    except services.ContactLimitReached as error:
        active = Contact.objects.filter(engagement=engagement, removed_at__isnull=True).count()
        messages.error(
            request,
            _("%(count)d of %(limit)d named contacts. %(detail)s")
            % {"count": active, "limit": engagement.plan.max_contacts, "detail": error.detail},
        )
    except DomainError as error:
        flash_error(request, error)
    else:
        messages.success(
            request, _("%(person)s is now a named contact.") % {"person": person.get_full_name()}
        )
    return redirect(engagement_url(engagement, "contacts"))


@login_required
@require_POST
def engagement_contact_remove(
    request: AuthenticatedHttpRequest, pk: int, contact_pk: int
) -> HttpResponse:
    engagement = engagement_or_404(pk)
    contact = get_scoped_or_404(Contact, pk=contact_pk, engagement=engagement)
    require_admin(request.user)
    services.contact_remove(acting_user=request.user, contact=contact)
    messages.success(
        request,
        _("%(person)s is no longer a named contact.") % {"person": contact.user.get_full_name()},
    )
    return redirect(engagement_url(engagement, "contacts"))
