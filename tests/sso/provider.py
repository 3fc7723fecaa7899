"""A real OpenID Connect provider and a real SAML identity provider, each in a second process,
and a sign-in through each.

`oidc_provider` and `saml_idp` start tests/sso/oidc_provider.py (oidc-provider-mock's authlib
server) and tests/sso/saml_idp.py on a free port once per session (`serving`); each test gets
theirs with its behaviour reset. `sso_sign_in` walks
the authorization-code flow as a browser would: the portal's sign-in button (POST) redirects
to the provider's authorization endpoint, the provider's form is posted (choosing the
subject), and its redirect brings the code back to the portal's callback, which exchanges it
at the provider's token endpoint over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
from django.test import Client

from tests.conftest import need_service

REPO_ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A test server in its own process (`serving`); `misbehave()` with no arguments resets it."""

    url: str

    def misbehave(self, **behaviour: Any) -> None:
        response = requests.put(f"{self.url}/_test/behaviour", json=behaviour, timeout=5)
        assert response.status_code == 204, response.text


@contextmanager
def serving(module: str, ready_path: str, what: str) -> Iterator[str]:
    """`python -m <module> --port <a free port>` from the repository's root for the block: its
    URL once `ready_path` answers (20 s at most, else `need_service` says `what` is missing);
    stopped on leaving."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        ready = False
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = requests.get(f"{url}{ready_path}", timeout=1).ok
            except requests.ConnectionError:
                ready = False
            if ready:
                break
            time.sleep(0.1)
        need_service(ready, what)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Provider(ServerProcess):
    def set_user(self, sub: str, **claims: Any) -> None:
        response = requests.put(f"{self.url}/users/{quote(sub, safe='')}", json=claims, timeout=5)
        assert response.status_code == 204, response.text


@pytest.fixture(scope="session")
def _provider_process() -> Iterator[Provider]:
    with serving(
        "tests.sso.oidc_provider",
        "/.well-known/openid-configuration",
        "the test OpenID Connect provider (oidc-provider-mock)",
    ) as url:
        yield Provider(url=url)


@pytest.fixture
def oidc_provider(_provider_process: Provider) -> Provider:
    _provider_process.misbehave()
    return _provider_process


def sso_sign_in(
    client: Client, connection: Any, provider: Provider, sub: str, process: str = "login"
) -> Any:
    """The portal's answer to the provider's redirect back (the callback's response)."""
    start = client.post(f"/accounts/oidc/{connection.provider_id}/login/", {"process": process})
    assert start.status_code == 302, start.status_code
    authorize = start["Location"]
    assert authorize.startswith(provider.url + "/oauth2/authorize?"), authorize
    consent = requests.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert consent.status_code == 302, consent.text
    back = urlsplit(consent.headers["Location"])
    assert back.path == f"/accounts/oidc/{connection.provider_id}/login/callback/", back
    return client.get(f"{back.path}?{back.query}")


@dataclass
class SamlIdp(ServerProcess):
    @property
    def entity_id(self) -> str:
        return f"{self.url}/metadata"

    @property
    def sso_url(self) -> str:
        return f"{self.url}/sso"

    def certificate(self, of: str = "idp") -> str:
        return requests.get(f"{self.url}/certificate", params={"of": of}, timeout=5).text

    def set_user(self, name_id: str, name_id_format: str = "", **attributes: str) -> None:
        body = {"name_id": name_id, "name_id_format": name_id_format, "attributes": attributes}
        response = requests.put(f"{self.url}/_test/user", json=body, timeout=5)
        assert response.status_code == 204, response.text


@pytest.fixture(scope="session")
def _saml_idp_process() -> Iterator[SamlIdp]:
    with serving(
        "tests.sso.saml_idp", "/metadata", "the test SAML identity provider (tests/sso/saml_idp.py)"
    ) as url:
        yield SamlIdp(url=url)


@pytest.fixture
def saml_idp(_saml_idp_process: SamlIdp) -> SamlIdp:
    _saml_idp_process.misbehave()
    return _saml_idp_process


def saml_sign_in(client: Client, connection: Any, idp: SamlIdp, process: str = "login") -> Any:
    """The portal's answer once the identity provider's signed response was posted back: the
    sign-in button (POST) redirects to the IdP with the AuthnRequest (HTTP-Redirect binding),
    the IdP answers with a form holding the SAMLResponse (HTTP-POST binding), which the browser
    posts to the portal's ACS; the ACS redirects to its finishing step."""
    import re
    from html import unescape

    start = client.post(
        f"/accounts/saml/{connection.organization.slug}/login/", {"process": process}
    )
    assert start.status_code == 302, start.status_code
    assert start["Location"].startswith(idp.sso_url + "?SAMLRequest="), start["Location"]
    page = requests.get(start["Location"], timeout=10)
    assert page.status_code == 200, page.text
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page.text)
    }
    acs = urlsplit(action)
    assert acs.path == f"/accounts/saml/{connection.organization.slug}/acs/", action
    posted = client.post(acs.path, fields)
    assert posted.status_code == 302, posted.status_code
    return client.get(posted["Location"])
