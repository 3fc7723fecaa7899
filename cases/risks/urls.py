"""Routes of the feature: its pages (`urlpatterns`) and its API (`api_urlpatterns`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from cases.risks import api, views

urlpatterns = [
    path("engagements/<int:pk>/risks/", views.risk_list, name="risk_list"),
    path("engagements/<int:pk>/risks/new/", views.risk_create, name="risk_create"),
    path("engagements/<int:pk>/risks/<int:risk_pk>/", views.risk_edit, name="risk_edit"),
]

router = SimpleRouter(trailing_slash=True)
router.register("risks", api.RiskViewSet, basename="risk")
api_urlpatterns = router.urls
