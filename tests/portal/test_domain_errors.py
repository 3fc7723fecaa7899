"""One mapping of a refused operation to an answer, shared by pages and the API."""

import html
import json

import pytest
from django import forms
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import HttpResponse
from django.test import RequestFactory

from portal.errors import Conflict, InvalidInput, NotAllowed, NotEntitled, domain_error_response
from portal.middleware import DomainErrorMiddleware
from portal.pages import apply_domain_error, flash_error
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db


class NoteForm(forms.Form):
    note = forms.CharField()


def page_request(path="/cases/1/"):
    request = RequestFactory().get(path)
    request.user = ManagerFactory()
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotAllowed("Only the manager may."), 403),
        (NotEntitled(), 403),
        (Conflict("Already taken."), 409),
        (InvalidInput("Bad date."), 400),
    ],
)
def test_pages_and_api_answer_a_refusal_with_its_status_and_reason(error, status):
    middleware = DomainErrorMiddleware(lambda request: HttpResponse())
    page = middleware.process_exception(page_request(), error)
    assert page.status_code == status
    assert html.escape(error.detail) in page.content.decode()
    api = domain_error_response(page_request("/api/v1/cases/1/"), error)
    assert api.status_code == status
    assert json.loads(api.content) == {"code": error.code, "detail": error.detail, "fields": {}}


def test_other_exceptions_are_left_to_django():
    middleware = DomainErrorMiddleware(lambda request: HttpResponse())
    assert middleware.process_exception(page_request(), ValueError("boom")) is None


def test_a_form_shows_input_errors_and_by_choice_leaves_refusals_to_the_error_page():
    form = NoteForm({"note": "x"})
    assert form.is_valid()
    apply_domain_error(form, InvalidInput(fields={"note": ["Too short."]}), refusal_page=True)
    assert form.errors["note"] == ["Too short."]
    with pytest.raises(NotAllowed):
        apply_domain_error(NoteForm({"note": "x"}), NotAllowed(), refusal_page=True)
    shown = NoteForm({"note": "x"})
    shown.is_valid()
    apply_domain_error(shown, NotAllowed("Not yours."))
    assert shown.non_field_errors() == ["Not yours."]


def test_a_flashed_refusal_is_a_message_or_by_choice_the_error_page():
    request = page_request()
    flash_error(request, Conflict("Already taken."), refusal_page=True)
    assert [str(m) for m in request._messages] == ["Already taken."]
    with pytest.raises(NotAllowed):
        flash_error(page_request(), NotAllowed(), refusal_page=True)
