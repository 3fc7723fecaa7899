"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from engagements.absences import api, views

urlpatterns = [
    path("absences/", views.absence_list, name="absence_list"),
    path("absences/<int:pk>/delete/", views.absence_delete, name="absence_delete"),
]

router = SimpleRouter(trailing_slash=True)
router.register("absences", api.AbsenceViewSet, basename="absence")
api_urlpatterns = router.urls
