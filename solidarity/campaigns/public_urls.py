"""Public campaign pages, included at the site root by solidarity.urls."""

from django.urls import path

from . import public_views as views
from .unsubscribe import unsubscribe

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/<slug:slug>/", views.campaign_detail, name="campaign"),
    path("campaigns/<slug:slug>/actions/", views.action_calendar, name="campaign_actions"),
    path("campaigns/<slug:slug>/actions.ics", views.action_ical, name="campaign_ical"),
    path("actions/", views.action_calendar, name="action_calendar"),
    path("actions.ics", views.action_ical, name="action_ical"),
    path("actions/places/", views.actions_by_place, name="actions_by_place"),
    path("actions/<int:pk>/", views.action_detail, name="action"),
    path("petitions/confirm/<str:token>/", views.confirm_signature, name="confirm_signature"),
    path("petitions/<slug:slug>/", views.petition, name="petition"),
    path("petitions/<slug:slug>/thanks/", views.petition_thanks, name="petition_thanks"),
    path("urgent-actions/<slug:slug>/", views.urgent_action, name="urgent_action"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
]
