""" "Forgot your password" sends nothing to a person whose organization requires single sign-on
(OpenID Connect or SAML), and answers exactly as for anyone else: the page tells nobody whether
an address has an account or uses single sign-on. Mail is counted at a real SMTP server."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from portal.sso import services

pytestmark = pytest.mark.django_db


def require_sso(world, tenant, protocol, saml_idp, **flags):
    fields = {
        "name": "Their login",
        "domains": [tenant.poc.email.split("@")[1]],
        "require_sso": True,
    }
    if protocol == "saml":
        fields.update(
            protocol="saml",
            saml_entity_id=saml_idp.entity_id,
            saml_sso_url=saml_idp.sso_url,
            saml_certificate=saml_idp.certificate(),
        )
    else:
        fields.update(issuer="https://login.example.com", client_id="c", client_secret="s")
    fields.update(flags)
    return services.sso_connection_create(
        acting_user=world.admin, organization=tenant.organization, **fields
    )


def ask_reset(email: str):
    response = Client().post(reverse("account_reset_password"), {"email": email})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


@pytest.mark.parametrize("protocol", ["oidc", "saml"])
def test_no_reset_mail_where_sso_is_required_and_the_same_answer(
    world, saml_idp, smtp_sink, protocol
):
    require_sso(world, world.a, protocol, saml_idp)
    answer = ask_reset(world.a.poc.email)
    assert smtp_sink.recipients() == []
    # the same answer as for a person with a password (who gets the mail) ...
    assert ask_reset(world.b.poc.email) == answer
    assert smtp_sink.recipients() == [world.b.poc.email]
    # ... and as for an address nobody has
    assert ask_reset("nobody-here@nowhere.test") == answer
    assert world.a.poc.email not in smtp_sink.recipients()
    # provider staff keep their password (and its reset) whatever a customer requires
    ask_reset(world.manager.email)
    assert world.manager.email in smtp_sink.recipients()


def test_reset_mail_when_sso_is_only_offered_or_switched_off(world, saml_idp, smtp_sink):
    connection = require_sso(world, world.a, "saml", saml_idp, require_sso=False)
    ask_reset(world.a.poc.email)
    assert smtp_sink.recipients() == [world.a.poc.email]
    services.sso_connection_update(
        acting_user=world.admin, connection=connection, require_sso=True, is_enabled=False
    )
    ask_reset(world.a.member.email)
    assert smtp_sink.recipients() == [world.a.poc.email, world.a.member.email]
