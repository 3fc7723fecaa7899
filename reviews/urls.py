"""The routes of the reviews app: one line per feature, pages and API."""

from reviews.board import urls as board
from reviews.consulting import urls as consulting
from reviews.enablement import urls as enablement
from reviews.feeds import urls as feeds
from reviews.health import urls as health
from reviews.maintenance import urls as maintenance
from reviews.publications import urls as publications
from reviews.releases import urls as releases
from reviews.reports import urls as reports
from reviews.scheduling import urls as scheduling
from reviews.search import urls as search

FEATURES = (
    feeds,
    reports,
    board,
    scheduling,
    maintenance,
    releases,
    publications,
    enablement,
    consulting,
    health,
    search,
)

urlpatterns = [pattern for feature in FEATURES for pattern in feature.urlpatterns]
api_urlpatterns = [pattern for feature in FEATURES for pattern in feature.api_urlpatterns]
