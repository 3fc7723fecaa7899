"""OpenAPI schema post-processing: every error an operation can answer is documented.

Every API error has one shape (SPEC §8): `{"code": "...", "detail": "...", "fields": {...}}`.
The views document their business errors (403 `not_entitled`, 409 `conflict`, ...) with a
description; this hook gives each of those the `Error` body and adds the errors that the
framework answers for any operation: 401 and 403 (authentication, token scopes), 429
(throttling), 400 where the operation takes query parameters (an unknown one, or an unreadable
cursor, too) or a body, 404 where a path names something, and 413/415 where it takes a body.
`document_sync` adds the sync and concurrency headers and answers of portal/api/sync.py.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every API error: a stable code, a message and per-field messages.",
    "properties": {
        "code": {"type": "string", "description": "Stable error code, e.g. `not_found`."},
        "detail": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": {},
            "description": "Messages by input field (lists, or objects for nested input).",
        },
    },
    "required": ["code", "detail", "fields"],
}
DESCRIPTIONS = {
    "400": "validation_error or parse_error",
    "401": "not_authenticated or authentication_failed",
    "403": "permission_denied",
    "404": "not_found",
    "413": "request_too_large",
    "415": "unsupported_media_type",
    "429": "throttled",
}
METHODS = ("get", "put", "post", "patch", "delete")


def _error_codes(operation: dict[str, Any]) -> list[str]:
    parameters = operation.get("parameters", [])
    codes = ["400", "401", "403", "429"]  # every operation refuses unknown query parameters
    if any(p.get("in") == "path" for p in parameters):
        codes.append("404")
    if operation.get("requestBody"):
        codes += ["413", "415"]
    return codes


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}
    for path_item in result.get("paths", {}).values():
        for method in METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in _error_codes(operation):
                responses.setdefault(code, {"description": DESCRIPTIONS[code]})
            for code, response in responses.items():
                if code.startswith(("4", "5")) and "content" not in response:
                    response["content"] = body
            operation["responses"] = dict(sorted(responses.items()))
    return result


def _schemas(node: Any) -> Any:
    """Every object in a schema document, walked without recursion."""
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            yield item
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def nullable_any(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """A nullable field of any value (a JSONField such as the audit's `before`) is `{}`: in
    OpenAPI 3.1 drf-spectacular writes `oneOf: [{}, {type: null}]`, which no null satisfies
    (it matches both)."""
    for node in _schemas(result):
        options = node.get("oneOf")
        if isinstance(options, list) and {} in options:
            del node["oneOf"]
    return result


RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "Requests allowed in the throttle's window.",
    "X-RateLimit-Remaining": "Requests left in the current window.",
    "X-RateLimit-Reset": "Unix time (seconds) when the oldest counted request leaves the window.",
}
SYNC_HEADERS = {
    **RATE_LIMIT_HEADERS,
    "ETag": "The object's version (weak): send it back in If-Match or If-None-Match.",
    "Link": 'RFC 8288 links to the other pages: rel="next" and rel="prev".',
}


def _header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _header_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "in": "header",
        "name": name,
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


def document_sync(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook (portal/api/sync.py): X-RateLimit-* on every
    answer, Link on lists, ETag on objects with If-None-Match (304) on their GET and If-Match
    (412 `precondition_failed`) on writes to one object. Runs before document_errors, which
    gives the 412 its error body."""
    headers = result.setdefault("components", {}).setdefault("headers", {})
    for name, description in SYNC_HEADERS.items():
        headers[name] = {"description": description, "schema": {"type": "string"}}
    for path, path_item in result.get("paths", {}).items():
        for method in METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            parameters = operation.setdefault("parameters", [])
            responses = operation.setdefault("responses", {})
            is_list = any(p.get("name") == "cursor" and p.get("in") == "query" for p in parameters)
            is_object = ("{" in path or path.endswith("/me/")) and not is_list
            for code, response in responses.items():
                if code == "304":
                    continue
                names = list(RATE_LIMIT_HEADERS)
                if code.startswith("2") and is_list:
                    names.append("Link")
                if code.startswith("2") and is_object and code != "204":
                    names.append("ETag")
                response_headers = response.setdefault("headers", {})
                for name in names:
                    response_headers.setdefault(name, _header_ref(name))
            if not is_object:
                continue
            if method == "get":
                parameters.append(
                    _header_parameter(
                        "If-None-Match", "An ETag you hold: 304 Not Modified if it is current."
                    )
                )
                responses["304"] = {
                    "description": "Not modified: the ETag in If-None-Match is current.",
                    "headers": {"ETag": _header_ref("ETag")},
                }
            else:
                parameters.append(
                    _header_parameter(
                        "If-Match",
                        "The ETag you last read: 412 precondition_failed (nothing changed) if "
                        "the object has changed since.",
                    )
                )
                responses.setdefault(
                    "412", {"description": "precondition_failed (If-Match is not current)"}
                )
            operation["responses"] = dict(sorted(responses.items()))
    return result
