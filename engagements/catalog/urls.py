"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from engagements.catalog import api, views

urlpatterns = [
    path("catalog/", views.catalog_matrix, name="catalog_matrix"),
    path("catalog/cadences/", views.catalog_cadences, name="catalog_cadences"),
    path("catalog/plans/", views.catalog_plans, name="catalog_plans"),
    path("catalog/plans/new/", views.catalog_plan_create, name="catalog_plan_create"),
    path("catalog/plans/<int:pk>/edit/", views.catalog_plan_edit, name="catalog_plan_edit"),
    path("catalog/functions/", views.catalog_functions, name="catalog_functions"),
    path("catalog/functions/new/", views.catalog_function_create, name="catalog_function_create"),
    path(
        "catalog/functions/<int:pk>/edit/",
        views.catalog_function_edit,
        name="catalog_function_edit",
    ),
]

router = SimpleRouter(trailing_slash=True)
router.register("plans", api.PlanViewSet, basename="plan")
router.register("service-functions", api.ServiceFunctionViewSet, basename="service-function")
api_urlpatterns = router.urls
