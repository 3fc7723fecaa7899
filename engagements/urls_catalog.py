"""Catalog configuration pages (provider admins)."""

from django.urls import path

from engagements import views_catalog as views

urlpatterns = [
    path("", views.catalog_matrix, name="catalog_matrix"),
    path("cadences/", views.catalog_cadences, name="catalog_cadences"),
    path("plans/", views.catalog_plans, name="catalog_plans"),
    path("plans/new/", views.catalog_plan_create, name="catalog_plan_create"),
    path("plans/<int:pk>/edit/", views.catalog_plan_edit, name="catalog_plan_edit"),
    path("functions/", views.catalog_functions, name="catalog_functions"),
    path("functions/new/", views.catalog_function_create, name="catalog_function_create"),
    path("functions/<int:pk>/edit/", views.catalog_function_edit, name="catalog_function_edit"),
]
