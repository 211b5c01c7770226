"""The page behind every supporter e-mail's unsubscribe link, and its RFC 8058 one-click POST.

GET shows a button and changes nothing: mail scanners and link previews open every link in a
message, and must not unsubscribe anyone. POST unsubscribes, whether it comes from that button
or from the mail client's one-click request (body "List-Unsubscribe=One-Click").
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import services


# CSRF protection is off for this one view because the one-click POST of RFC 8058 comes from the
# supporter's mail client (or their provider's server), which has no cookie and no form token.
# The token in the address is the authority instead: an HMAC only this server can make, for one
# supporter, so a forged cross-site POST can at most unsubscribe the holder of a link it already
# has; and unsubscribing is the one change a stranger holding the link may make.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    supporter = services.supporter_for_unsubscribe_token(token)
    if supporter is None:
        return render(request, "campaigns/unsubscribe_unknown.html", status=404)
    if request.method == "POST":
        services.unsubscribe(supporter)
        return render(request, "campaigns/unsubscribe_done.html")
    if not services.may_mail(supporter):
        return render(request, "campaigns/unsubscribe_done.html")
    return render(request, "campaigns/unsubscribe.html")
