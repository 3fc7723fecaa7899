"""Global search: `GET /api/v1/search/?q=…&type=…`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.views import ScopedAPIViewMixin
from portal.http import actor
from reviews.search.selectors import API_LIMIT, Kind, search_for
from reviews.search.serializers import SearchQuerySerializer, SearchResultsSerializer


class SearchViewSet(ScopedAPIViewMixin, viewsets.ViewSet):
    """What the caller may see whose text holds every word of `q`: cases (subject,
    description, comments; internal notes only for provider staff; or the number),
    engagements, organizations and sessions, grouped by kind with each kind's count and its
    best matches."""

    @extend_schema(
        operation_id="search",
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=True,
                description="The words to find: 2–100 characters, at most 8 words.",
            ),
            OpenApiParameter(
                "type",
                str,
                enum=Kind.values,
                description="Only this kind of result (default: every kind).",
            ),
        ],
        request=None,
        responses=SearchResultsSerializer,
    )
    def list(self, request: Request) -> Response:
        names = ("q", "type")
        given = {name: request.query_params[name] for name in names if name in request.query_params}
        query = SearchQuerySerializer(data=given)
        query.is_valid(raise_exception=True)
        kind = query.validated_data.get("type")
        found = search_for(actor(request), query.validated_data["q"])
        groups = found.groups([kind] if kind else Kind.values, limit=API_LIMIT)
        return Response(
            SearchResultsSerializer({"q": query.validated_data["q"], "groups": groups}).data
        )
