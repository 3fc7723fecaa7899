"""Base classes of every API view: the actor's tenant scope, strict input, one error format;
the viewset combinations every app uses (read, create, update, delete as each resource allows)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.db import models
from django.http import HttpRequest, HttpResponseBase
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from portal.api import idempotency
from portal.api.query import refuse_unknown_query_parameters
from portal.http import actor
from portal.tenancy.scoping import activate, deactivate, scope_for

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

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        user = request.user
        active = user.is_authenticated and user.is_active
        self._scope_token = activate(scope_for(actor(request)) if active else None)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After authentication, permissions and throttling: refuse undocumented query
        parameters (as StrictSerializerMixin refuses unknown body fields), then take a POST's
        Idempotency-Key."""
        super().initial(request, *args, **kwargs)
        refuse_unknown_query_parameters(request)
        self._idempotency = idempotency.begin(request)

    # DRF's dispatch takes any HttpResponseBase from handle_exception; its stub says Response.
    def handle_exception(self, exc: Exception) -> HttpResponseBase:  # type: ignore[override]
        if isinstance(exc, idempotency.Replay):
            return exc.response()
        return super().handle_exception(exc)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self._scope_token = None
        self._idempotency = None
        try:
            # A POST with an Idempotency-Key runs in one transaction with its key.
            with idempotency.transaction_for(request):
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
