"""The models of the reviews app, one module per feature; Django loads them from here."""

from reviews.consulting.models import *  # noqa: F403
from reviews.enablement.models import *  # noqa: F403
from reviews.feeds.models import *  # noqa: F403
from reviews.maintenance.models import *  # noqa: F403
from reviews.publications.models import *  # noqa: F403
from reviews.releases.models import *  # noqa: F403
from reviews.reports.models import *  # noqa: F403
from reviews.scheduling.models import *  # noqa: F403
