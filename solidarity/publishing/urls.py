"""The newspaper's public pages and the site's Atom feeds, mounted with the public site."""

from django.urls import path

from . import feeds, views

app_name = "publishing"

urlpatterns = [
    path("newspaper/", views.front, name="front"),
    path("newspaper/language/<str:code>/", views.language, name="language"),
    path("newspaper/archive/", views.archive, name="archive"),
    path("newspaper/archive/<int:year>/<str:month>/", views.month, name="month"),
    path("newspaper/articles/<slug:slug>/", views.article, name="article"),
    path(
        "newspaper/articles/<slug:slug>/images/<int:pk>.<str:suffix>",
        views.image,
        name="image",
    ),
    path("newspaper/issues/", views.issue_list, name="issues"),
    path("newspaper/issues/<slug:slug>/", views.issue, name="issue"),
    path("newspaper/topics/", views.topic_list, name="topics"),
    path("newspaper/topics/<slug:slug>/", views.topic, name="topic"),
    path("newspaper/authors/", views.author_list, name="authors"),
    path("newspaper/authors/<slug:slug>/", views.author, name="author"),
    path("feeds/newspaper/<str:code>.atom", feeds.LanguageFeed(), name="language_feed"),
    path("feeds/topics/<slug:slug>.atom", feeds.TopicFeed(), name="topic_feed"),
    path("feeds/campaigns/<slug:slug>.atom", feeds.CampaignFeed(), name="campaign_feed"),
    path("feeds/events.atom", feeds.EventFeed(), name="events_feed"),
]
