"""Base classes of every API view: the actor's tenant scope, strict input, one error format,
the sync and concurrency headers (portal/api/sync.py); the viewset combinations every app uses
(read, create, update, delete as each resource allows)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, cast

from django.db import models, transaction
from django.http import HttpRequest, HttpResponseBase
from rest_framework import mixins, permissions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api import idempotency, sync
from portal.api.authentication import token_scope
from portal.api.query import refuse_unknown_query_parameters
from portal.tenancy.scoping import activate, deactivate

if TYPE_CHECKING:
    _APIViewBase = APIView  # what the mixin's super() calls reach
else:
    _APIViewBase = object


class ScopedAPIViewMixin(_APIViewBase):
    """Opens the tenant scope of whoever the request authenticated as (session or token), and
    makes every POST idempotent under an `Idempotency-Key` header (portal/api/idempotency.py).

    The scope opens right after authentication, so permission checks, querysets, serializers
    and rendering all run inside it, and it closes when the response is rendered.
    """

    _throttles: list[Any] | None  # those that counted this request (X-RateLimit-*)

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        user = request.user
        active = user.is_authenticated and user.is_active
        # A token's owner works in the scope kept with the token (portal/api/authentication.py).
        self._scope_token = activate(token_scope(request) if active else None)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After authentication, permissions and throttling: refuse undocumented query
        parameters (as StrictSerializerMixin refuses unknown body fields), then take a POST's
        Idempotency-Key."""
        super().initial(request, *args, **kwargs)
        refuse_unknown_query_parameters(request)
        self._idempotency = idempotency.begin(request)

    def check_throttles(self, request: Request) -> None:
        """DRF's, keeping the throttles so the response can say what is left of the limit."""
        self._throttles = []
        durations: list[float | None] = []
        for throttle in self.get_throttles():
            if not throttle.allow_request(request, self):
                durations.append(throttle.wait())
            self._throttles.append(throttle)
        if durations:
            waits = [duration for duration in durations if duration is not None]
            self.throttled(request, max(waits, default=None))  # type: ignore[arg-type]  # DRF takes None

    # DRF finalizes any HttpResponseBase (an idempotent replay); its stub says Response.
    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        """ETag (and 304 for a matching If-None-Match), Link on lists, X-RateLimit-*."""
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        if isinstance(response, Response):
            data = response.data
            if 200 <= response.status_code < 300 and (etag := sync.etag_of_data(data)):
                response["ETag"] = etag
                if (unchanged := sync.not_modified(request, response)) is not None:
                    response = super().finalize_response(request, unchanged, *args, **kwargs)
            if link := sync.link_header(data):
                response["Link"] = link
        throttles = getattr(self, "_throttles", None)
        if throttles is None:
            throttles = sync.peek_throttles(self.get_throttles(), request, self)
        for name, value in sync.rate_limit_headers(throttles).items():
            response[name] = value
        return response

    # DRF's dispatch takes any HttpResponseBase from handle_exception; its stub says Response.
    def handle_exception(self, exc: Exception) -> HttpResponseBase:  # type: ignore[override]
        if isinstance(exc, idempotency.Replay):
            return exc.response()
        return super().handle_exception(exc)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self._scope_token = None
        self._idempotency = None
        self._throttles = None
        # A write with If-Match runs in one transaction, so the version checked is the one
        # written over (sync.check_if_match locks the row).
        conditional = request.method not in permissions.SAFE_METHODS and bool(
            request.headers.get("If-Match")
        )
        try:
            # A POST with an Idempotency-Key runs in one transaction with its key.
            with (
                transaction.atomic() if conditional else nullcontext(),
                idempotency.transaction_for(request),
            ):
                response = super().dispatch(request, *args, **kwargs)
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
                if self._idempotency is not None:
                    idempotency.complete(self._idempotency, response)
            return response
        finally:
            if self._scope_token is not None:
                deactivate(self._scope_token)


class PortalAPIView(ScopedAPIViewMixin, APIView):
    pass


class PortalViewSetMixin(ScopedAPIViewMixin):
    """Concrete viewsets declare `queryset` (for the schema), `serializer_class` and
    `filterset_class`; querysets are always rebuilt from the model's scoped manager."""

    queryset: models.QuerySet[Any] | models.Manager[Any] | None  # as GenericAPIView's

    def get_queryset(self) -> models.QuerySet:
        return cast("models.QuerySet[Any]", self.queryset).model._default_manager.all()

    def get_object(self) -> Any:
        """The object by id through the scope (404), then the write's `If-Match` (412)."""
        instance = super().get_object()  # type: ignore[misc]
        view = cast("viewsets.GenericViewSet", self)
        nested = set(view.kwargs) - {view.lookup_url_kwarg or view.lookup_field, "format"}
        if not nested:  # an action on a nested object (`contacts/{contact_id}/`) checks that one
            sync.check_if_match(self.request, instance)
        return instance


class PortalReadOnlyViewSet(PortalViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class PortalModelViewSet(PortalViewSetMixin, viewsets.ModelViewSet):
    pass


class PortalCreateReadUpdateViewSet(
    PortalViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    pass


class PortalReadCreateViewSet(
    PortalViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Read and create; changes go through actions."""


class PortalReadCreateDeleteViewSet(
    PortalViewSetMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Read, create and delete; no updates."""


class PortalReadUpdateViewSet(
    PortalViewSetMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Read and update; rows are created elsewhere."""
