"""The routes of the engagements app: one line per feature, pages and API."""

from engagements.absences import urls as absences
from engagements.advocacy import urls as advocacy
from engagements.afterhours import urls as afterhours
from engagements.catalog import urls as catalog
from engagements.contacts import urls as contacts
from engagements.contracts import urls as contracts
from engagements.intelligence import urls as intelligence
from engagements.time import urls as time
from engagements.upgrades import urls as upgrades

FEATURES = (
    catalog,
    contracts,
    contacts,
    afterhours,
    time,
    absences,
    intelligence,
    advocacy,
    upgrades,
)

urlpatterns = [pattern for feature in FEATURES for pattern in feature.urlpatterns]
api_urlpatterns = [pattern for feature in FEATURES for pattern in feature.api_urlpatterns]
