"""Live pages: the fragments htmx polls so lists, the board and badges refresh without a reload.

A page marks the part that refreshes with `{% block %}` and wraps it in a container carrying
`{% live_poll "<fragment route>" %}` (portal/templatetags/live.py). The fragment route is the
page's own view wrapped by `live_fragment`: the view runs unchanged (the same sign-in check,
scope, filters from the query string and queries) and returns a `TemplateResponse`; the wrapper
renders only the block. So a fragment can never show more, or other, rows than its page.

Every fragment carries an ETag of its markup; static/portal/live.js sends it back as
`If-None-Match`, and an unchanged fragment answers 204, which htmx does not swap (a table the
user is reading or selecting in is not rebuilt for nothing). A page that redirects (signed
out, a manager's dashboard) answers 286, htmx's "stop polling".
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.context import make_context
from django.template.loader import get_template, select_template
from django.template.loader_tags import BlockNode
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags, quote_etag
from django.views.decorators.http import require_GET

from portal.context_processors import NAV_COUNTS, badge_slot, count_badge, unread_badge

STOP_POLLING = 286  # htmx stops the element's `every` trigger on this status

View = Callable[..., HttpResponseBase]


def render_block(
    template_name: str | list[str] | tuple[str, ...],
    block: str,
    context: dict[str, Any],
    request: HttpRequest,
) -> str:
    """One `{% block %}` of a template, rendered as the whole template would render it (the
    context processors run, `{% include %}` and `{% csrf_token %}` work). The block may sit
    anywhere in the template's own markup, not in a parent or an included template."""
    backend_template = (
        get_template(template_name)
        if isinstance(template_name, str)
        else select_template(template_name)
    )
    # The Django backend wraps its compiled template; the stubs type the protocol only.
    template = backend_template.template  # type: ignore[union-attr]
    node = next(
        (found for found in template.nodelist.get_nodes_by_type(BlockNode) if found.name == block),
        None,
    )
    if node is None:
        raise ValueError(f"{template.name} has no block {block!r}")
    context_object = make_context(context, request, autoescape=template.engine.autoescape)
    with context_object.render_context.push_state(template), context_object.bind_template(template):
        context_object.template_name = template.name
        return str(node.render(context_object))


# A form inside a fragment carries a CSRF token masked anew at every render: the same markup
# otherwise, so it does not count towards "changed".
_CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def fragment_etag(content: bytes) -> str:
    return quote_etag(hashlib.sha256(_CSRF_TOKEN.sub(b"", content)).hexdigest()[:32])


def fragment_response(request: HttpRequest, content: str) -> HttpResponse:
    """`content` as a fragment: never stored, with its ETag; 204 when the poller holds it."""
    body = content.encode()
    etag = fragment_etag(body)
    held = {tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))}
    # Compared weakly, as for any If-None-Match.
    response = HttpResponse(status=204) if etag in held else HttpResponse(body)
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_store=True)
    return response


def live_fragment(view: View, block: str) -> View:
    """A view answering `block` of the page `view` renders, for the page's poller."""

    @functools.wraps(view)
    def fragment(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if 300 <= response.status_code < 400:
            return HttpResponse(status=STOP_POLLING)
        if not isinstance(response, TemplateResponse) or response.status_code != 200:
            return response  # refusals (403, 404) as the page answers them
        content = render_block(
            response.template_name,  # type: ignore[arg-type]  # a name or a list of names
            block,
            response.context_data or {},
            request,
        )
        return fragment_response(request, content)

    return fragment


@require_GET
def nav_badges(request: HttpRequest) -> HttpResponse:
    """The navigation's badges, each swapped out of band into its slot (base.html polls this
    with `hx-swap="none"`): the staff links' counts (`register_nav_count`) for provider staff
    and the unread notifications, each counted as the layout counts it."""
    user = request.user
    if not user.is_authenticated:
        return HttpResponse(status=STOP_POLLING)
    slots = []
    if user.is_provider_staff:
        slots += [
            badge_slot(name, count_badge(count(user)), oob=True)
            for name, (_label, count) in NAV_COUNTS.items()
        ]
    slots.append(badge_slot("notifications", unread_badge(user), oob=True))
    return fragment_response(request, "".join(slots))
