"""Relaxations of the Content-Security-Policy (settings.CONTENT_SECURITY_POLICY), one per view.

The portal's own pages run no inline script or style. The API documentation pages are the
vendored Swagger UI and Redoc bundles: both are React apps that write <style> elements at run
time, and Redoc builds its search index in a blob: worker. Only those two views get these
sources; scripts stay 'self' (Swagger UI's start-up script is served as a file by
SpectacularSwaggerSplitView, Redoc starts from its <redoc> element).

`CSPMiddleware` sets the policy, built once per process where no view changed it.
"""

from typing import Any

from csp import middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.decorators import csp_update
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

api_docs_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})


# The attributes by which a view changes the policy of its response (csp.decorators).
_PER_VIEW = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_SETTINGS = {False: "CONTENT_SECURITY_POLICY", True: "CONTENT_SECURITY_POLICY_REPORT_ONLY"}
_built: dict[bool, str] = {}


@receiver(setting_changed)
def _forget_policies(setting: str, **_kwargs: Any) -> None:
    if setting in _SETTINGS.values():
        _built.clear()


class CSPMiddleware(middleware.CSPMiddleware):
    """django-csp's middleware, with the policy of a response that no view changed and that
    used no nonce built once per process (and again when the setting changes): it is the same
    text for every such response — every API answer among them — and django-csp built it
    anew for each (a tenth of a millisecond). Anything else is django-csp's own path."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> Any:
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _PER_VIEW
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response  # as django-csp: the debug pages run inline scripts
        for report_only, header, exempt in (
            (False, HEADER, "_csp_exempt"),
            (True, HEADER_REPORT_ONLY, "_csp_exempt_ro"),
        ):
            policy = _built.get(report_only)
            if policy is None:
                policy = _built[report_only] = build_policy(report_only=report_only)
            if not policy or header in response or getattr(response, exempt, False) is not False:
                continue
            prefixes = (getattr(settings, _SETTINGS[report_only], None) or {}).get(
                "EXCLUDE_URL_PREFIXES"
            ) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = policy
        # As django-csp: asking for a nonce once the header is written is an error.
        request.csp_nonce = middleware.CheckableLazyObject(  # type: ignore[attr-defined]
            self._csp_nonce_post_response
        )
        return response
