"""Public campaign pages: thin views over `public_data` (reading) and `services` (writing).

Supporters have no account. Every form answers a bad submission with the form and its
messages (status 400) and stores nothing; a good one is stored before the answer is sent and
redirected (POST/redirect/GET), so a reload cannot sign twice. A form sent back sooner than a
person could fill it in is such a bad submission (human_timing.py, in the forms).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import human_timing, ical, intake, page_cache, public_data, services, throttle
from .forms import LetterReportForm, PetitionSignForm, RsvpForm

LANGUAGE_CODES = ("en", "ru", "kk")


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _language() -> str:
    return (translation.get_language() or "en")[:2]


def _with_retry_after(response: HttpResponse) -> HttpResponse:
    if response.status_code == 429:
        response["Retry-After"] = str(throttle.form_rate()[1])
    return response


def _too_many() -> str:
    # Said in the supporter's language, and stored nothing (see throttle.py).
    return _(
        "Too many submissions have come from your connection in the last few minutes. "
        "Please wait a little and try again."
    )


@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "campaigns/campaign_list.html", {"campaigns": public_data.campaign_list()}
    )


@require_GET
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = public_data.campaign_detail(slug)
    if campaign is None:
        raise Http404
    return render(request, "campaigns/campaign_detail.html", {"campaign": campaign})


# -- Petitions ----------------------------------------------------------------------------------


def _petition_page(request: HttpRequest, slug: str, csrf_token: str) -> str | None:
    detail = public_data.petition_detail(slug)
    if detail is None:
        return None
    form = PetitionSignForm(
        target_name=detail.target.name if detail.target else "", timed_for=slug, shared=True
    )
    context = {"petition": detail, "form": form, "csrf_token": csrf_token}
    return render_to_string("campaigns/petition.html", context, request=request)


@require_http_methods(["GET", "HEAD", "POST"])
def petition(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        # The same for every reader but the CSRF token and the form's stamp: rendered once,
        # shared (page_cache), each put in per response.
        body = page_cache.page(request, lambda token: _petition_page(request, slug, token))
        if body is None:
            raise Http404
        return HttpResponse(human_timing.fill(body, PetitionSignForm.scope(slug)))
    # A signature is answered without the page's counts and names (a redirect), so they are
    # only read when the form comes back with its messages: it halves the queries per signing.
    record = page_cache.petition_for_signing(slug)
    if record is None:
        raise Http404
    form = PetitionSignForm(
        request.POST, target_name=public_data.petition_target_name(record), timed_for=slug
    )
    status = 400
    if form.is_valid() and not throttle.allow(request, "sign"):
        form.add_error(None, _too_many())
        status = 429
    elif form.is_valid() and form.use_stamp():  # a replayed stamp: 400, as a missing one
        try:
            # Stored for the worker to record (intake.py): the answer is the same either way,
            # and the request writes one row instead of five.
            intake.receive(
                record,
                form.details(),
                comment=form.cleaned_data["comment"],
                public_name_consent=form.cleaned_data["public_name_consent"],
                contact_consent=form.cleaned_data["contact_consent"],
                processing_consent=form.cleaned_data["processing_consent"],
                base_url=_base_url(request),
            )
            return HttpResponseRedirect(reverse("campaigns:petition_thanks", args=[slug]))
        except ValidationError as error:
            form.add_error(None, error)
    detail = public_data.petition_detail(slug)
    if detail is None:
        raise Http404
    response = render(
        request, "campaigns/petition.html", {"petition": detail, "form": form}, status=status
    )
    return _with_retry_after(response)


@require_GET
def petition_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    detail = public_data.petition_detail(slug)
    if detail is None:
        raise Http404
    return render(request, "campaigns/petition_thanks.html", {"petition": detail})


@require_http_methods(["GET", "HEAD", "POST"])
def confirm_signature(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, only POST confirms: mail scanners that open links confirm nothing."""
    signature = services.signature_for_token(token)
    if signature is None:
        return render(request, "campaigns/confirm_unknown.html", status=404)
    detail = public_data.petition_detail(signature.petition.slug)
    if request.method == "POST":
        services.confirm_signature(token)
        return render(
            request, "campaigns/confirm_done.html", {"petition": detail, "already": False}
        )
    already = signature.status == signature.Status.CONFIRMED
    template = "campaigns/confirm_done.html" if already else "campaigns/confirm.html"
    return render(request, template, {"petition": detail, "already": already})


# -- Urgent actions -----------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def urgent_action(request: HttpRequest, slug: str) -> HttpResponse:
    letter_language = request.GET.get("letter", "")
    if letter_language not in LANGUAGE_CODES:
        letter_language = _language()
    detail = public_data.urgent_action_detail(slug, letter_language)
    if detail is None:
        raise Http404
    targets = [(t.id, f"{t.name} ({t.country})") for t in detail.targets]
    form = LetterReportForm(request.POST or None, targets=targets, timed_for=slug)
    status = 200
    if request.method == "POST":
        reported = False
        record = public_data.public_urgent_action(slug)
        if record is None:
            raise Http404
        if form.is_valid() and not throttle.allow(request, "letters"):
            form.add_error(None, _too_many())
            status = 429
        elif form.is_valid() and form.use_stamp():
            target_id = form.cleaned_data["target"]
            target = record.targets.filter(pk=target_id).first() if target_id else None
            try:
                services.report_letters(
                    record,
                    form.details(),
                    letters=form.cleaned_data["letters"],
                    target=target,
                    contact_consent=form.cleaned_data["contact_consent"],
                    processing_consent=form.cleaned_data["processing_consent"],
                )
                reported = True
            except ValidationError as error:
                form.add_error(None, error)
        if reported:
            url = reverse("campaigns:urgent_action", args=[slug]) + "?reported=1#report"
            return HttpResponseRedirect(url)
        status = max(status, 400)
    context = {
        "ua": detail,
        "form": form,
        "reported": request.GET.get("reported") == "1",
        "languages": [
            (code, name) for code, name in (("en", "English"), ("ru", "Русский"), ("kk", "Қазақша"))
        ],
    }
    return _with_retry_after(
        render(request, "campaigns/urgent_action.html", context, status=status)
    )


# -- Actions ------------------------------------------------------------------------------------


@require_GET
def action_calendar(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    campaign = None
    if slug is not None:
        campaign = public_data.campaign_detail(slug)
        if campaign is None:
            raise Http404
    actions = public_data.action_calendar(slug)
    context = {
        "campaign": campaign,
        "upcoming": [a for a in actions if a.is_upcoming],
        "past": list(reversed([a for a in actions if not a.is_upcoming])),
        "ical_url": request.build_absolute_uri(
            reverse("campaigns:campaign_ical", args=[slug])
            if slug
            else reverse("campaigns:action_ical")
        ),
    }
    return render(request, "campaigns/action_calendar.html", context)


@require_GET
def action_ical(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    name = "Solidarity: actions"
    if slug is not None:
        campaign = public_data.campaign_detail(slug)
        if campaign is None:
            raise Http404
        name = f"Solidarity: {campaign.title}"
    actions = public_data.action_calendar(slug)
    text = ical.calendar(
        actions,
        name=name,
        host=request.get_host().split(":")[0],
        url_for={
            a.id: request.build_absolute_uri(reverse("campaigns:action", args=[a.id]))
            for a in actions
        },
        now=timezone.now(),
    )
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="actions.ics"'
    return response


@require_GET
def actions_by_place(request: HttpRequest) -> HttpResponse:
    return render(
        request, "campaigns/actions_by_place.html", {"countries": public_data.actions_by_place()}
    )


@require_http_methods(["GET", "HEAD", "POST"])
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    detail = public_data.action_detail(pk)
    if detail is None:
        raise Http404
    form = RsvpForm(request.POST or None, timed_for=pk)
    status = 200
    if request.method == "POST":
        record = public_data.public_action(pk)
        if record is None:
            raise Http404
        replied = False
        if form.is_valid() and not throttle.allow(request, "rsvp"):
            # Each reply stores a supporter row with a personal address: a flood would fill the
            # database with other people's data and swamp the organisers' attendance lists.
            form.add_error(None, _too_many())
            status = 429
        elif form.is_valid() and form.use_stamp():
            try:
                services.rsvp(
                    record,
                    form.details(),
                    processing_consent=form.cleaned_data["processing_consent"],
                )
                replied = True
            except services.AlreadyRsvpd:
                # Same answer as a first reply: the page must not reveal who has replied.
                replied = True
            except ValidationError as error:
                form.add_error(None, error)
        if replied:
            url = reverse("campaigns:action", args=[pk]) + "?replied=1#rsvp"
            return HttpResponseRedirect(url)
        status = max(status, 400)
    context = {"action": detail, "form": form, "replied": request.GET.get("replied") == "1"}
    return _with_retry_after(
        render(request, "campaigns/action_detail.html", context, status=status)
    )
