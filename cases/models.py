"""The models of the cases app, one module per feature; Django loads them from here."""

from cases.casework.models import *  # noqa: F403
from cases.fixes.models import *  # noqa: F403
from cases.mailin.models import *  # noqa: F403
from cases.risks.models import *  # noqa: F403
from cases.satisfaction.models import *  # noqa: F403
from cases.savedviews.models import *  # noqa: F403
