"""A real OpenID Connect provider for the single sign-on tests, run in its own process:
`python -m tests.sso.oidc_provider --port 9400`.

It is oidc-provider-mock's authlib server (discovery, the authorization endpoint and its
sign-in form, the token endpoint, JWKS, RS256-signed ID tokens, userinfo; people and their
claims set with `PUT /users/<sub>`), plus one control the tests need to play a misconfigured
provider: `PUT /_test/behaviour` with `{"issuer": ..., "audience": ...}` makes the ID tokens it
signs name another issuer or another audience, and `"discovery_issuer"` makes its discovery
document name another issuer (`{}` restores the truth)."""

from __future__ import annotations

import argparse
import os
from typing import Any

import flask
import oidc_provider_mock
import werkzeug.serving
from oidc_provider_mock import _app

BEHAVIOUR: dict[str, str] = {}

_original_claims = _app.OpenIDCode.get_compatible_claims


def _claims(self: Any, request: Any) -> dict[str, Any]:
    claims = _original_claims(self, request)
    if BEHAVIOUR.get("issuer"):
        claims["iss"] = BEHAVIOUR["issuer"]
    if BEHAVIOUR.get("audience"):
        claims["aud"] = [BEHAVIOUR["audience"]]
    return claims


_app.OpenIDCode.get_compatible_claims = _claims  # type: ignore[method-assign]


def make_app() -> flask.Flask:
    app = oidc_provider_mock.app()

    @app.put("/_test/behaviour")
    def behaviour() -> tuple[str, int]:
        body = flask.request.get_json(force=True) or {}
        BEHAVIOUR.clear()
        known = ("issuer", "audience", "discovery_issuer")
        BEHAVIOUR.update({k: str(v) for k, v in body.items() if k in known and v})
        return "", 204

    @app.after_request
    def discovery(response: flask.Response) -> flask.Response:
        if BEHAVIOUR.get("discovery_issuer") and flask.request.path.endswith(
            "/.well-known/openid-configuration"
        ):
            document = response.get_json()
            document["issuer"] = BEHAVIOUR["discovery_issuer"]
            response.set_data(flask.json.dumps(document))
        return response

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain HTTP on the loopback, tests only
    server = werkzeug.serving.make_server(args.host, args.port, make_app(), threaded=True)
    print(f"OpenID provider on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
