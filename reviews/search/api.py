"""Global search: `GET /api/v1/search/?q=…&type=…`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.views import PortalAPIView
from portal.http import actor
from reviews.search.selectors import API_LIMIT, Kind, search_for
from reviews.search.serializers import SearchQuerySerializer, SearchResultsSerializer


class SearchView(PortalAPIView):
    """What the caller may see whose text holds every word of `q`: cases (subject,
    description, comments; internal notes only for provider staff; or the number),
    engagements, organizations and sessions, grouped by kind with each kind's count and its
    best matches."""

    @extend_schema(
        operation_id="search",
        parameters=[SearchQuerySerializer],
        request=None,
        responses=SearchResultsSerializer,
    )
    def get(self, request: Request) -> Response:
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
