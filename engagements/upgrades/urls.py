"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from engagements.upgrades import api, views

urlpatterns = [
    path("engagements/<int:pk>/upgrades/", views.upgrade_plan_list, name="upgrade_plan_list"),
    path(
        "engagements/<int:pk>/upgrades/new/",
        views.upgrade_plan_create,
        name="upgrade_plan_create",
    ),
    path(
        "engagements/<int:pk>/upgrades/<int:plan_pk>/",
        views.upgrade_plan_edit,
        name="upgrade_plan_edit",
    ),
    path(
        "engagements/<int:pk>/upgrades/<int:plan_pk>/milestones/new/",
        views.upgrade_milestone_create,
        name="upgrade_milestone_create",
    ),
    path(
        "engagements/<int:pk>/upgrades/milestones/<int:milestone_pk>/",
        views.upgrade_milestone_edit,
        name="upgrade_milestone_edit",
    ),
    path(
        "engagements/<int:pk>/upgrades/milestones/<int:milestone_pk>/done/",
        views.upgrade_milestone_done,
        name="upgrade_milestone_done",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("upgrade-plans", api.UpgradePlanViewSet, basename="upgrade-plan")
api_urlpatterns = router.urls
