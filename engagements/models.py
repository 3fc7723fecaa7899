"""The models of the engagements app, one module per feature; Django loads them from here."""

from engagements.absences.models import *  # noqa: F403
from engagements.advocacy.models import *  # noqa: F403
from engagements.afterhours.models import *  # noqa: F403
from engagements.catalog.models import *  # noqa: F403
from engagements.contacts.models import *  # noqa: F403
from engagements.contracts.models import *  # noqa: F403
from engagements.intelligence.models import *  # noqa: F403
from engagements.time.models import *  # noqa: F403
from engagements.upgrades.models import *  # noqa: F403
