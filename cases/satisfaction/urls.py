"""Routes of the feature: its page (`urlpatterns`); its API is the case's `rating` action."""

from django.urls import path

from cases.satisfaction import views

urlpatterns = [
    path("cases/<int:pk>/rating/", views.case_rate, name="case_rate"),
]

api_urlpatterns: list = []
