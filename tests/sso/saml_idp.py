"""A real SAML 2.0 identity provider for the single sign-on tests, run in its own process:
`python -m tests.sso.saml_idp --port 9500`.

It generates its own RSA key and self-signed certificate at start (and a second pair, an
impostor's), publishes its metadata (`GET /metadata`), takes the portal's AuthnRequest over the
HTTP-Redirect binding (`GET /sso?SAMLRequest=...&RelayState=...`: base64 of the deflated XML)
and answers with the HTTP-POST binding: an HTML form with the base64 SAMLResponse, addressed to
the request's AssertionConsumerServiceURL, which the test client posts. The response is built
and signed here with python-xmlsec (enveloped signature, exclusive canonicalisation, RSA-SHA256).

Test hooks:
- `PUT /_test/user` `{"name_id": ..., "name_id_format": ..., "attributes": {name: value}}`: who
  signs in next.
- `PUT /_test/behaviour` `{"sign": "assertion" | "response" | "none" | "impostor",
  "audience": ..., "expired": true}`: sign the assertion (the default), the whole response,
  nothing, or the assertion with the impostor's key; name another audience; send an assertion
  whose validity ended an hour ago; `"unsolicited": true` answers as an IdP-initiated sign-in
  (no InResponseTo). `{}` restores the truth.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import uuid
import zlib
from typing import Any

import flask
import werkzeug.serving
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


def key_pair(common_name: str) -> tuple[bytes, bytes]:
    """A fresh RSA key and a self-signed certificate for it, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return (
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        certificate.public_bytes(serialization.Encoding.PEM),
    )


KEYS = {"idp": key_pair("Test SAML IdP"), "impostor": key_pair("Impostor")}
USER: dict[str, Any] = {}
BEHAVIOUR: dict[str, Any] = {}


def _cert_body(pem: bytes) -> str:
    return "".join(pem.decode().strip().splitlines()[1:-1])


def _instant(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sign(element: etree._Element, which: str) -> None:
    """An enveloped RSA-SHA256 signature of `element`, placed right after its Issuer."""
    key_pem, cert_pem = KEYS[which]
    signature = xmlsec.template.create(
        element, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256, ns="ds"
    )
    element.insert(1, signature)  # after <saml:Issuer>
    reference = xmlsec.template.add_reference(
        signature, xmlsec.Transform.SHA256, uri="#" + element.get("ID")
    )
    xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(reference, xmlsec.Transform.EXCL_C14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    xmlsec.template.add_x509_data(key_info)
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem)
    context.key.load_cert_from_memory(cert_pem, xmlsec.constants.KeyDataFormatPem)
    context.register_id(element, "ID")
    context.sign(signature)


def build_response(
    *, entity_id: str, acs_url: str, sp_entity_id: str, in_response_to: str
) -> bytes:
    now = dt.datetime.now(dt.UTC)
    not_after = now + dt.timedelta(minutes=5)
    if BEHAVIOUR.get("expired"):
        now -= dt.timedelta(hours=2)
        not_after = now + dt.timedelta(minutes=5)
    audience = BEHAVIOUR.get("audience") or sp_entity_id
    answering = {} if BEHAVIOUR.get("unsolicited") else {"InResponseTo": in_response_to}
    nsmap = {"samlp": SAMLP, "saml": SAML}
    response = etree.Element(
        f"{{{SAMLP}}}Response",
        nsmap=nsmap,
        ID="_" + uuid.uuid4().hex,
        Version="2.0",
        IssueInstant=_instant(now),
        Destination=acs_url,
        **answering,
    )
    etree.SubElement(response, f"{{{SAML}}}Issuer").text = entity_id
    status = etree.SubElement(response, f"{{{SAMLP}}}Status")
    etree.SubElement(
        status, f"{{{SAMLP}}}StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success"
    )
    assertion = etree.SubElement(
        response,
        f"{{{SAML}}}Assertion",
        ID="_" + uuid.uuid4().hex,
        Version="2.0",
        IssueInstant=_instant(now),
    )
    etree.SubElement(assertion, f"{{{SAML}}}Issuer").text = entity_id
    subject = etree.SubElement(assertion, f"{{{SAML}}}Subject")
    name_id = etree.SubElement(
        subject, f"{{{SAML}}}NameID", Format=USER.get("name_id_format") or EMAIL_FORMAT
    )
    name_id.text = USER.get("name_id", "nobody@example.invalid")
    confirmation = etree.SubElement(
        subject, f"{{{SAML}}}SubjectConfirmation", Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"
    )
    etree.SubElement(
        confirmation,
        f"{{{SAML}}}SubjectConfirmationData",
        NotOnOrAfter=_instant(not_after),
        Recipient=acs_url,
        **answering,
    )
    conditions = etree.SubElement(
        assertion,
        f"{{{SAML}}}Conditions",
        NotBefore=_instant(now - dt.timedelta(minutes=1)),
        NotOnOrAfter=_instant(not_after),
    )
    restriction = etree.SubElement(conditions, f"{{{SAML}}}AudienceRestriction")
    etree.SubElement(restriction, f"{{{SAML}}}Audience").text = audience
    statement = etree.SubElement(
        assertion,
        f"{{{SAML}}}AuthnStatement",
        AuthnInstant=_instant(now),
        SessionIndex="_" + uuid.uuid4().hex,
    )
    context = etree.SubElement(statement, f"{{{SAML}}}AuthnContext")
    etree.SubElement(
        context, f"{{{SAML}}}AuthnContextClassRef"
    ).text = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    attributes = USER.get("attributes") or {}
    if attributes:
        attribute_statement = etree.SubElement(assertion, f"{{{SAML}}}AttributeStatement")
        for name, value in attributes.items():
            attribute = etree.SubElement(
                attribute_statement,
                f"{{{SAML}}}Attribute",
                Name=name,
                NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
            )
            etree.SubElement(attribute, f"{{{SAML}}}AttributeValue").text = str(value)
    sign = BEHAVIOUR.get("sign", "assertion")
    if sign == "assertion":
        _sign(assertion, "idp")
    elif sign == "impostor":
        _sign(assertion, "impostor")
    elif sign == "response":
        _sign(response, "idp")
    return etree.tostring(response, xml_declaration=True, encoding="UTF-8")


def make_app() -> flask.Flask:
    app = flask.Flask(__name__)

    def entity_id() -> str:
        return flask.request.host_url.rstrip("/") + "/metadata"

    @app.get("/metadata")
    def metadata() -> flask.Response:
        root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={"md": MD, "ds": DS})
        root.set("entityID", entity_id())
        descriptor = etree.SubElement(
            root, f"{{{MD}}}IDPSSODescriptor", protocolSupportEnumeration=SAMLP
        )
        key = etree.SubElement(descriptor, f"{{{MD}}}KeyDescriptor", use="signing")
        data = etree.SubElement(etree.SubElement(key, f"{{{DS}}}KeyInfo"), f"{{{DS}}}X509Data")
        etree.SubElement(data, f"{{{DS}}}X509Certificate").text = _cert_body(KEYS["idp"][1])
        etree.SubElement(descriptor, f"{{{MD}}}NameIDFormat").text = EMAIL_FORMAT
        etree.SubElement(
            descriptor,
            f"{{{MD}}}SingleSignOnService",
            Binding=REDIRECT,
            Location=flask.request.host_url.rstrip("/") + "/sso",
        )
        return flask.Response(etree.tostring(root), content_type="application/samlmetadata+xml")

    @app.get("/certificate")
    def certificate() -> flask.Response:
        which = flask.request.args.get("of", "idp")
        return flask.Response(KEYS[which][1], content_type="application/x-pem-file")

    @app.get("/sso")
    def sso() -> flask.Response | tuple[str, int]:
        encoded = flask.request.args.get("SAMLRequest", "")
        try:
            request_xml = zlib.decompress(base64.b64decode(encoded), -15)
            request = etree.fromstring(request_xml)
        except (ValueError, zlib.error, etree.XMLSyntaxError):
            return "not an AuthnRequest", 400
        sp_issuer = request.findtext(f"{{{SAML}}}Issuer") or ""
        acs_url = request.get("AssertionConsumerServiceURL") or ""
        body = build_response(
            entity_id=entity_id(),
            acs_url=acs_url,
            sp_entity_id=sp_issuer,
            in_response_to=request.get("ID") or "",
        )
        relay = flask.request.args.get("RelayState")
        relay_field = (
            f'<input type="hidden" name="RelayState" value="{html.escape(relay)}">' if relay else ""
        )
        page = (
            '<!doctype html><html><body onload="document.forms[0].submit()">'
            f'<form method="post" action="{html.escape(acs_url)}">'
            f'<input type="hidden" name="SAMLResponse" '
            f'value="{base64.b64encode(body).decode()}">{relay_field}'
            "<button>Continue</button></form></body></html>"
        )
        return flask.Response(page, content_type="text/html")

    @app.put("/_test/user")
    def user() -> tuple[str, int]:
        USER.clear()
        USER.update(flask.request.get_json(force=True) or {})
        return "", 204

    @app.put("/_test/behaviour")
    def behaviour() -> tuple[str, int]:
        BEHAVIOUR.clear()
        body = flask.request.get_json(force=True) or {}
        BEHAVIOUR.update(
            {k: v for k, v in body.items() if k in ("sign", "audience", "expired", "unsolicited")}
        )
        return "", 204

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = werkzeug.serving.make_server(args.host, args.port, make_app(), threaded=True)
    print(f"SAML identity provider on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
