"""The routes of the cases app: one line per feature, pages and API."""

from cases.casework import urls as casework
from cases.fixes import urls as fixes
from cases.presence import urls as presence
from cases.queue import urls as queue
from cases.risks import urls as risks
from cases.satisfaction import urls as satisfaction
from cases.savedviews import urls as savedviews

FEATURES = (
    casework,
    risks,
    fixes,
    queue,
    satisfaction,
    savedviews,
    presence,
)

urlpatterns = [pattern for feature in FEATURES for pattern in feature.urlpatterns]
api_urlpatterns = [pattern for feature in FEATURES for pattern in feature.api_urlpatterns]
