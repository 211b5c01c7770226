"""The API, included at /api/ by solidarity.urls."""

from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView

from . import exports, views

app_name = "api"


class RecordId:
    """A record's id: 1 to 18 digits, so that it always fits a 64-bit key (a longer number
    would be a database error on PostgreSQL, not a 404)."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


# Described in the OpenAPI schema by SPECTACULAR_SETTINGS["PATH_CONVERTER_OVERRIDES"].
register_converter(RecordId, "id")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v2/", views.EntryPointView.as_view(), name="entry_point"),
    path("v2/people/", views.PeopleView.as_view(), name="people"),
    path("v2/people/<id:pk>/", views.PersonView.as_view(), name="person"),
    path(
        "v2/people/<id:pk>/signatures/",
        views.PersonSignaturesView.as_view(),
        name="person_signatures",
    ),
    path(
        "v2/people/<id:pk>/attendances/",
        views.PersonAttendancesView.as_view(),
        name="person_attendances",
    ),
    path("v2/petitions/", views.PetitionsView.as_view(), name="petitions"),
    path("v2/petitions/<id:pk>/", views.PetitionView.as_view(), name="petition"),
    path(
        "v2/petitions/<id:pk>/signatures/",
        views.PetitionSignaturesView.as_view(),
        name="petition_signatures",
    ),
    path(
        "v2/petitions/<id:pk>/signatures/<id:signature_pk>/",
        views.SignatureView.as_view(),
        name="signature",
    ),
    path("v2/events/", views.EventsView.as_view(), name="events"),
    path("v2/events/<id:pk>/", views.EventView.as_view(), name="event"),
    path(
        "v2/events/<id:pk>/attendances/",
        views.EventAttendancesView.as_view(),
        name="event_attendances",
    ),
    path(
        "v2/events/<id:pk>/attendances/<id:attendance_pk>/",
        views.AttendanceView.as_view(),
        name="attendance",
    ),
    path("v2/tags/", views.TagsView.as_view(), name="tags"),
    path("v2/tags/<id:pk>/", views.TagView.as_view(), name="tag"),
    path("v2/tags/<id:pk>/taggings/", views.TagTaggingsView.as_view(), name="taggings"),
    path(
        "v2/tags/<id:pk>/taggings/<id:tagging_pk>/",
        views.TaggingView.as_view(),
        name="tagging",
    ),
    path("popolo/all.json", exports.PopoloAllView.as_view(), name="popolo_all"),
    *(
        path(f"popolo/{kind}.json", exports.popolo_view(kind), name=f"popolo_{kind}")
        for kind in exports.POPOLO_KINDS
    ),
    *(
        path(f"export/{kind}.csv", exports.csv_view(kind), name=f"csv_{kind}")
        for kind in exports.CSV_KINDS
    ),
]
