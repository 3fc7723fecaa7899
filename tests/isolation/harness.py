"""The tenant-isolation harness: every route × role, another tenant's data answers 404.

Each page and API route of the portal is registered here (see `routes.py`) as one of:

- `detail`: a URL naming one object. Signed in as a user of tenant A, tenant B's object must
  answer 404 exactly as an id that does not exist (same status, same body), while A's own
  object must not answer 404 (so the check cannot pass on a broken route).
- `list`: a listing. It must show A's marker and never B's.
- `exempt`: a route with no tenant data (sign-in, health, schema), with the reason.

`test_every_route_is_registered` walks Django's URL resolver, so a new route that is not
registered fails the suite. Later issues add their routes to `routes.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse

MISSING_ID = 987_654_321


@dataclass(frozen=True)
class Route:
    name: str
    kind: str  # "detail" | "list" | "exempt"
    # tenant -> reverse() kwargs naming that tenant's object (detail) or none (list)
    kwargs: Callable[[Any, Any], dict[str, Any]] = field(default=lambda world, tenant: {})
    # tenant -> a string only that tenant's data would put in the response (list)
    marker: Callable[[Any, Any], str] | None = None
    method: str = "get"
    data: Callable[[Any, Any], dict[str, Any]] | None = None
    roles: tuple[str, ...] = ("poc", "member")
    reason: str = ""

    @property
    def is_api(self) -> bool:
        return self.name.startswith("api:") or "-" in self.name


REGISTRY: dict[str, Route] = {}
# Route names under these namespaces or prefixes hold no tenant data: say why.
EXEMPT_PREFIXES: dict[str, str] = {}


def register(route: Route) -> Route:
    if route.name in REGISTRY:
        raise ValueError(f"{route.name} is registered twice")
    if route.kind == "exempt" and not route.reason:
        raise ValueError(f"{route.name}: an exempt route needs a reason")
    REGISTRY[route.name] = route
    return route


def exempt_prefix(prefix: str, reason: str) -> None:
    EXEMPT_PREFIXES[prefix] = reason


def walk_routes(
    patterns: list | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """Yield (route name, path pattern) for every named route of the URLconf."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            space = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk_routes(entry.url_patterns, prefix + str(entry.pattern), space)
        elif isinstance(entry, URLPattern):
            path = prefix + str(entry.pattern)
            yield (f"{namespace}{entry.name}" if entry.name else "", path)


def unregistered_routes() -> list[str]:
    missing = []
    for name, path in walk_routes():
        clean = path.lstrip("^")
        if any(clean.startswith(prefix) for prefix in EXEMPT_PREFIXES):
            continue
        if not name or name not in REGISTRY:
            missing.append(f"{name or '(unnamed)'} -> {path}")
    return sorted(set(missing))


_CSRF = re.compile(r'(csrfmiddlewaretoken" value=|X-CSRFToken": ")"?[^"]+"')


def _comparable(response: Any) -> Any:
    if response.get("Content-Type", "").startswith("application/json"):
        return json.loads(response.content or b"null")
    return _CSRF.sub("CSRF", response.content.decode())


def _request(client: Any, route: Route, url: str, world: Any, tenant: Any) -> Any:
    data = route.data(world, tenant) if route.data else None
    if route.method == "get":
        return client.get(url, data or {})
    return (
        getattr(client, route.method)(url, data or {}, format="json")
        if route.is_api
        else getattr(client, route.method)(url, data or {})
    )


def _with_missing_ids(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: MISSING_ID if isinstance(value, int) else value for key, value in kwargs.items()}


def check_detail(client: Any, route: Route, world: Any) -> None:
    """Tenant B's object answers exactly like a missing one; A's own does not answer 404."""
    foreign_kwargs = route.kwargs(world, world.b)
    foreign = _request(client, route, reverse(route.name, kwargs=foreign_kwargs), world, world.b)
    missing = _request(
        client, route, reverse(route.name, kwargs=_with_missing_ids(foreign_kwargs)), world, world.b
    )
    assert missing.status_code == 404, f"{route.name}: a missing id answered {missing.status_code}"
    assert foreign.status_code == 404, (
        f"{route.name}: tenant B's object answered {foreign.status_code}, not 404"
    )
    assert _comparable(foreign) == _comparable(missing), (
        f"{route.name}: tenant B's object is distinguishable from a missing one"
    )
    # Last, since acting on A's own object may change what the next page shows (messages).
    own = _request(
        client, route, reverse(route.name, kwargs=route.kwargs(world, world.a)), world, world.a
    )
    assert own.status_code != 404, f"{route.name}: tenant A's own object answered 404"


def check_list(client: Any, route: Route, world: Any) -> None:
    """A list shows tenant A's data and never tenant B's."""
    response = _request(
        client, route, reverse(route.name, kwargs=route.kwargs(world, world.a)), world, world.a
    )
    assert response.status_code == 200, f"{route.name}: answered {response.status_code}"
    body = response.content.decode()
    assert route.marker is not None
    assert route.marker(world, world.a) in body, f"{route.name}: tenant A's own data is missing"
    assert route.marker(world, world.b) not in body, f"{route.name}: lists tenant B's data"


def check_route(client: Any, route: Route, world: Any) -> None:
    if route.kind == "detail":
        check_detail(client, route, world)
    elif route.kind == "list":
        check_list(client, route, world)
