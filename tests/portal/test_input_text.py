"""NUL and control characters: a field error in the API and on pages, and e-mail headers
built from old records stay one line (issue 11 §2 and §4)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from cases.casework import services as case_services
from cases.casework.models import Case
from portal.notifications import OutboxEmail, deliver_outbox
from tests.conftest import page_client, signed_in
from tests.portal.bad_input import (
    CASES,
    assert_400,
)

pytestmark = pytest.mark.django_db

# --- NUL and control characters -------------------------------------------------------------


def test_a_nul_in_any_string_is_a_field_error_not_a_database_error(world):
    engagement = world.a.objects["engagement"]
    admin = signed_in(world.admin)
    response = admin.patch(
        f"/api/v1/engagements/{engagement.pk}/", {"plan": "a\u0000b"}, format="json"
    )
    assert assert_400(response)["fields"] == {"plan": ["Null characters are not allowed."]}
    poc = signed_in(world.a.poc)
    for field in ("subject", "description"):
        payload = {
            "engagement": engagement.pk,
            "kind": "inquiry",
            "subject": "Subject",
            "description": "Text",
            field: "a\u0000b",
        }
        assert list(assert_400(poc.post(CASES, payload, format="json"))["fields"]) == [field]
    assert not Case.objects.exists()


@pytest.mark.parametrize("character", ["\r\n", "\n", "\r", "\t", "\x07", "\x1b", "\x7f"])
def test_single_line_api_fields_refuse_control_characters(world, character):
    engagement = world.a.objects["engagement"]
    poc = signed_in(world.a.poc)
    payload = {
        "engagement": engagement.pk,
        "kind": "inquiry",
        "subject": f"Printer{character}Bcc: someone@example.com",
        "description": "Text",
    }
    body = assert_400(poc.post(CASES, payload, format="json"))
    assert list(body["fields"]) == ["subject"]
    organization = signed_in(world.admin).patch(
        f"/api/v1/organizations/{world.a.organization.pk}/",
        {"name": f"Tenant{character}A"},
        format="json",
    )
    assert list(assert_400(organization)["fields"]) == ["name"]
    assert not Case.objects.exists()


def test_multi_line_api_fields_keep_line_breaks_and_tabs_and_refuse_other_controls(world):
    engagement = world.a.objects["engagement"]
    poc = signed_in(world.a.poc)
    payload = {"engagement": engagement.pk, "kind": "inquiry", "subject": "Printer"}
    created = poc.post(CASES, {**payload, "description": "One\r\nTwo\n\tThree"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["description"] == "One\r\nTwo\n\tThree"
    bell = poc.post(CASES, {**payload, "description": "Ring\x07"}, format="json")
    assert list(assert_400(bell)["fields"]) == ["description"]
    comment = poc.post(
        f"{CASES}{created.json()['id']}/comment/", {"body": "Line one\nline two"}, format="json"
    )
    assert comment.status_code == 201, comment.content
    escape = poc.post(
        f"{CASES}{created.json()['id']}/comment/", {"body": "Colour \x1b[31m"}, format="json"
    )
    assert list(assert_400(escape)["fields"]) == ["body"]


def test_page_forms_refuse_control_characters_in_one_line_fields(world):
    engagement = world.a.objects["engagement"]
    client = page_client(world.a.poc)
    form = {"engagement": engagement.pk, "kind": "inquiry", "severity": "2"}
    response = client.post(
        reverse("case_create"),
        {**form, "subject": "Printer\r\nBcc: someone@example.com", "description": "Text"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "subject" in response.context["form"].errors
    assert not Case.objects.exists()
    response = client.post(
        reverse("case_create"),
        {**form, "subject": "Printer", "description": "Line one\r\nLine two\tend"},
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Case.objects.get().description.splitlines() == ["Line one", "Line two\tend"]
    response = client.post(
        reverse("case_create"), {**form, "subject": "Printer", "description": "Bell\x07"}
    )
    assert "description" in response.context["form"].errors


def test_every_portal_form_applies_the_text_rule():
    from django import forms

    import portal.site.urls  # noqa: F401  (imports every view and so every form)
    from portal.forms import TextFormMixin

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {
        form
        for form in subclasses(forms.BaseForm)
        if form.__module__.split(".")[0] in {"portal", "engagements", "cases", "reviews"}
    }
    assert len(ours) > 40
    assert [form for form in ours if not issubclass(form, TextFormMixin)] == []


def test_mail_about_a_case_with_a_line_break_in_its_subject_is_delivered(world, settings):
    """A subject saved before the rule (or by a service, which does not validate) still
    makes a one-line Subject header; an outbox row written before the fix still sends."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    case = case_services.case_raise(
        acting_user=world.a.poc,
        engagement=world.a.objects["engagement"],
        kind="inquiry",
        severity=2,
        subject="Printer\r\nBcc: someone@example.com",
        description="It does not work.",
    )
    case_services.case_respond(acting_user=world.manager, case=case, body="Looking at it.")
    OutboxEmail.objects.create(
        to=world.manager.email, subject="Old\r\n row\nwith\tbreaks", body="Queued long ago."
    )
    queued = OutboxEmail.objects.count()
    assert queued >= 3
    assert deliver_outbox() == (queued, 0)
    subjects = [message.subject for message in mail.outbox]
    assert all("\n" not in subject and "\r" not in subject for subject in subjects)
    assert any("Printer Bcc: someone@example.com" in subject for subject in subjects), subjects
    assert "Old row with breaks" in subjects
    for message in mail.outbox:
        message.message()  # builds every header: no BadHeaderError
