import os

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from solidarity.api.admin_views import import_csv
from solidarity.documentation import source_files
from solidarity.public import views as public_views

urlpatterns = [
    # Keys and sealed values (solidarity/safety); before admin/ so that the admin's catch-all
    # does not take these addresses.
    path("admin/safety/", include("solidarity.safety.urls")),
    # CSV import in the back office (solidarity/api), before admin/ for the same reason.
    path("admin/import/", admin.site.admin_view(import_csv), name="admin_import"),
    # Search every record, merge and unmerge people (solidarity/search), for the same reason.
    path("admin/find/", include("solidarity.search.admin_urls")),
    # Files attached to sources, served only here (solidarity/documentation/source_files.py).
    path(
        "admin/source-files/<int:pk>/",
        admin.site.admin_view(source_files.download),
        name="documentation_source_file",
    ),
    path("admin/", admin.site.urls),
    # Login with two factors, logout, re-authentication (solidarity/accounts).
    path("accounts/", include("solidarity.accounts.urls")),
    # The language switch of the public site and the back office (POST only).
    path("i18n/setlang/", public_views.set_language, name="set_language"),
    # The API: OSDI at /api/v2/, Popolo and CSV exports, the OpenAPI schema at /api/schema/.
    path("api/", include("solidarity.api.urls")),
    # The public site's pages carry their language (/en/…, /ru/…, /kk/…); an address without
    # one is redirected by LocaleMiddleware to the chosen or negotiated language, so old links
    # (/petitions/<slug>/, /actions.ics) still reach their page.
    *i18n_patterns(
        # Campaigns, petitions, urgent actions and the action calendar (solidarity/campaigns).
        # First: signing is the busiest address, and for every include that does not match,
        # Django's resolver lists each pattern it tried (its 404 aid), about 4 % of a signing
        # request's time when the documentation site's patterns came first. No two of these
        # includes share an address, so their order changes nothing else.
        path("", include("solidarity.campaigns.public_urls")),
        path("", include("solidarity.public.urls")),
        # The newspaper and the Atom feeds (solidarity/publishing).
        path("", include("solidarity.publishing.urls")),
        # Search by name in any script (solidarity/search): /en/search/?q=…
        path("", include("solidarity.search.urls")),
    ),
]

if os.environ.get("SOLIDARITY_BENCH") == "1":
    # The baseline of bench/signing_bench.py, which alone sets SOLIDARITY_BENCH: Django's
    # request handling with nothing behind it. Never routed in normal runs.
    from bench.bare_view import bare_view

    urlpatterns.append(path("bench/bare/", bare_view))
