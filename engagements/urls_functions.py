"""Pages of the customer profile, the advocacy log and upgrade plans, per engagement."""

from django.urls import path

from engagements import views_functions as views

urlpatterns = [
    path("engagements/<int:pk>/intelligence/", views.customer_profile, name="customer_profile"),
    path("engagements/<int:pk>/advocacy/", views.advocacy_list, name="advocacy_list"),
    path("engagements/<int:pk>/advocacy/new/", views.advocacy_create, name="advocacy_create"),
    path("engagements/<int:pk>/advocacy/<int:item_pk>/", views.advocacy_edit, name="advocacy_edit"),
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
