"""The safety proof of the public site: nothing that is not public ever reaches it.

Every model in the classification gets records whose non-public fields hold canary strings,
and records that must stay hidden (private ones, and those hanging off private ones) get
canaries in their public fields too. Then the whole site is crawled from "/" by following its
own links and filter options, plus direct probes of the hidden records' addresses, and no
response may contain a canary.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import itertools
import json
import logging
import re
import signal
import socket
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage as ParsedMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import IntegrityError, OperationalError, models, transaction
from django.db.models.manager import BaseManager
from django.http import HttpResponseBase
from django.template import Context
from django.test import Client
from django.test.utils import ContextList, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from solidarity.api.exports import CSV_KINDS, POPOLO_KINDS
from solidarity.campaigns import tasks as campaign_tasks
from solidarity.campaigns.models import Petition, Signature, SignatureIntake
from solidarity.core.classification import CLASSIFICATION, FieldClass
from solidarity.core.fields import PartialDateField
from solidarity.core.models import Section
from solidarity.documentation.models import (
    Act,
    Citation,
    Detention,
    DetentionFacility,
    Event,
    Involvement,
    Membership,
    Organisation,
    OrganisationRelation,
    PaceCriterion,
    Participation,
    Person,
    PersonName,
    Place,
    Prosecution,
    Recognition,
    Source,
    SourceFile,
)
from solidarity.safety.keys import setup_user_key
from solidarity.safety.models import Role
from tests.test_campaigns_support import Mailbox

PUBLIC_PACKAGE = Path(__file__).resolve().parent.parent / "solidarity" / "public"
# Fields set by the framework, not by people: nothing to plant in them.
MACHINE_FIELDS = {"created_at", "updated_at", "is_public", "date_earliest", "date_latest"}


def model_key(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.object_name}"


class World:
    """Builds records and plants canaries in every field that must not be published."""

    def __init__(self, section: Section) -> None:
        self.section = section
        self.canaries: dict[str, str] = {}
        self.counter = itertools.count(1)
        # Years no public page mentions (the site names PACE Resolution 1900: stay below it).
        self.years = itertools.count(1501)
        self.models_built: set[str] = set()
        self.hidden_slugs: dict[type[models.Model], list[str]] = {}
        self.shown: dict[type[models.Model], models.Model] = {}

    def _plant(self, obj: models.Model, field: models.Field[Any, Any], where: str) -> None:
        n = next(self.counter)
        label = f"{where} {model_key(type(obj))}.{field.name}"
        if isinstance(field, PartialDateField | models.DateField | models.IntegerField):
            # A hidden date shows as its year, a number as itself.
            year = next(self.years)
            assert year < 1900, "too many numeric canaries"
            self.canaries[str(year)] = label
            if isinstance(field, PartialDateField):
                setattr(obj, field.name, f"{year}-03")
            elif isinstance(field, models.DateTimeField):
                setattr(obj, field.name, dt.datetime(year, 3, 5, tzinfo=dt.UTC))
            elif isinstance(field, models.DateField):
                setattr(obj, field.name, dt.date(year, 3, 5))
            else:
                setattr(obj, field.name, year)
        elif isinstance(field, models.CharField | models.TextField):
            text = f"canary-{n:03d}-{type(obj).__name__.lower()}-{field.name}"
            if field.max_length is not None and len(text) > field.max_length:
                text = f"cnry{n:04d}"
                assert len(text) <= field.max_length, f"{label}: too short for a canary"
            setattr(obj, field.name, text)
            self.canaries[text] = label

    def fill(self, obj: models.Model, *, hidden: bool) -> None:
        """Plant a canary in each non-public field, and in every field if `obj` is hidden."""
        key = model_key(type(obj))
        for name, cls in CLASSIFICATION[key].items():
            if name in MACHINE_FIELDS or (cls is FieldClass.PUBLIC and not hidden):
                continue
            field = obj._meta.get_field(name)
            if not isinstance(field, models.Field) or field.is_relation:
                continue
            # A text primary key (a session's hashed key) carries a canary like any field; a
            # number one is the row's identity, made by the database.
            if field.primary_key and not isinstance(field, models.CharField):
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                continue
            if field.choices or (
                isinstance(field, models.CharField) and (field.max_length or 99) < 8
            ):
                # A choice is one of a few fixed words, a two-letter code cannot be told apart
                # from ordinary text: neither can carry a canary.
                continue
            self._plant(obj, field, "hidden" if hidden else "shown")

    def make(self, model: type[Any], /, *, hidden: bool, **values: Any) -> Any:
        fields = {f.name for f in model._meta.get_fields()}
        if "is_public" in fields:
            values.setdefault("is_public", not hidden)
        if "section" in fields and "is_public" in fields:
            values.setdefault("section", self.section)
        obj = model(**values)
        self.fill(obj, hidden=hidden)
        with transaction.atomic():  # a sealed value is written only in one (safety/fields.py)
            obj.save()
        self.models_built.add(model_key(model))
        slug = getattr(obj, "slug", None)
        if hidden and slug:
            self.hidden_slugs.setdefault(model, []).append(slug)
        if not hidden:
            self.shown.setdefault(model, obj)
        return obj

    def make_any(self, model: type[models.Model], *, hidden: bool) -> models.Model:
        """A record of a model this proof does not build by hand, from its field definitions.

        Models added later (campaigns, publishing…) are covered the day they are classified;
        one whose rules defeat this builder fails here and needs a builder of its own.
        """
        values: dict[str, Any] = {}
        for field in model._meta.concrete_fields:
            # A one-to-one primary key (accounts.PasswordToReplace's user) is a relation to fill.
            if (field.primary_key and not field.is_relation) or field.name in MACHINE_FIELDS:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                continue
            if field.is_relation:
                if not field.null:
                    assert isinstance(field.related_model, type)
                    values[field.name] = self.related(field.related_model)
                continue
            text = isinstance(field, models.CharField | models.TextField)
            if field.has_default() or (field.blank if text else field.null):
                continue
            values[field.name] = self.ordinary(field)
        for constraint in model._meta.constraints:
            # Simple required values ("processing_consent must be true") are honoured.
            condition = getattr(constraint, "condition", None)
            for child in getattr(condition, "children", []):
                if isinstance(child, tuple) and "__" not in child[0]:
                    values[child[0]] = child[1]
        try:
            with transaction.atomic():
                obj: models.Model = self.make(model, hidden=hidden, **values)
        except (IntegrityError, ValueError, TypeError) as error:
            pytest.fail(f"{model_key(model)} needs its own builder in this proof: {error}")
        return obj

    def related(self, model: type[Any]) -> models.Model:
        if model is Section:
            return self.section
        if model is ContentType:
            return ContentType.objects.get_for_model(Person)
        if model is get_user_model():
            user: models.Model = get_user_model().objects.create_user(
                username=f"user-{next(self.counter)}"
            )
            return user
        return self.shown.get(model) or self.make_any(model, hidden=False)

    def ordinary(self, field: models.Field[Any, Any]) -> Any:
        n = next(self.counter)
        if field.choices:
            return field.flatchoices[0][0]
        if isinstance(field, PartialDateField):
            return "2012"
        if isinstance(field, models.EmailField):
            return f"shown{n}@example.org"
        if isinstance(field, models.URLField):
            return "https://example.org/"
        if isinstance(field, models.SlugField):
            return f"shown-{n}"
        if isinstance(field, models.CharField | models.TextField):
            return f"shown {n}"[: field.max_length or None]
        if isinstance(field, models.DateTimeField):
            return timezone.now()
        if isinstance(field, models.DateField):
            return dt.date(2012, 1, 1)
        if isinstance(field, models.BooleanField):
            return False
        if isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
            return 1
        if isinstance(field, models.BinaryField):
            return f"shown {n}".encode()
        raise AssertionError(f"no ordinary value for {field}")

    def cite(self, fact: models.Model, source: Source, *, hidden: bool) -> Citation:
        citation: Citation = self.make(
            Citation,
            hidden=hidden,
            content_type=ContentType.objects.get_for_model(fact),
            object_id=fact.pk,
            source=source,
            reliability="reliable",
            quote="" if hidden else "a quote anyone may read",
        )
        return citation


def build_world(section: Section) -> World:
    """Public records next to hidden ones, linked every way the models allow."""
    w = World(section)
    country = w.make(Place, hidden=False, slug="country", name_en="Country", kind="country")
    city = w.make(Place, hidden=False, slug="city", name_en="City", kind="city", parent=country)
    hidden_place = w.make(Place, hidden=True, kind="site", parent=city)
    under_hidden = w.make(
        Place, hidden=False, slug="street", name_en="Street", kind="site", parent=hidden_place
    )

    source = w.make(
        Source, hidden=False, slug="public-source", title="A public source", published="2012-06"
    )
    hidden_source = w.make(Source, hidden=True, kind="article")
    # Files kept with a public and a hidden source: internal either way, so neither caption
    # nor stored name may appear anywhere public. Named directly (not uploaded): nothing is
    # written to the disk, and the proof is about addresses and text, not the file's bytes.
    for kept_with in (source, hidden_source):
        stored_name = f"canary-{next(w.counter):03d}-sourcefile-file"
        w.make(SourceFile, hidden=False, source=kept_with, file=f"documentation/{stored_name}.pdf")
        w.canaries[stored_name] = "shown documentation.SourceFile.file"

    org = w.make(
        Organisation,
        hidden=False,
        slug="org",
        name_en="Public organisation",
        kind="political",
        founded="2002",
        country=hidden_place,
    )
    other_org = w.make(
        Organisation,
        hidden=False,
        slug="international",
        name_en="Public international",
        kind="international",
    )
    hidden_org = w.make(Organisation, hidden=True, kind="political", country=country)
    w.cite(org, source, hidden=False)
    w.cite(org, hidden_source, hidden=True)
    w.cite(hidden_org, source, hidden=True)

    shown_relation = w.make(
        OrganisationRelation, hidden=False, organisation=org, kind="section_of", other=other_org
    )
    w.cite(shown_relation, source, hidden=False)
    for kind, left, right, is_public in [
        ("affiliated_to", org, other_org, False),
        ("member_of", org, hidden_org, True),
        ("member_of", hidden_org, org, True),
    ]:
        relation = w.make(
            OrganisationRelation, hidden=True, organisation=left, kind=kind, other=right
        )
        relation.is_public = is_public
        relation.save()
        w.cite(relation, source, hidden=True)

    # Sealed fields are sealed to the section's coordinators: one with a key must exist.
    keeper = get_user_model().objects.create_user("keeper", password="keeper long passphrase")
    Role.objects.create(user=keeper, section=section, role="coordinator")
    with override_settings(SOLIDARITY_KDF="interactive"):
        setup_user_key(keeper, "keeper long passphrase")
    person = w.make(
        Person, hidden=False, slug="public-person", given_name="Public", family_name="Person"
    )
    hidden_person = w.make(Person, hidden=True)
    w.cite(person, source, hidden=False)
    w.cite(hidden_person, source, hidden=True)
    w.make(
        PersonName,
        hidden=False,
        person=person,
        name="Публичный Человек",
        language="ru",
        script="Cyrl",
        kind="native",
    )
    w.make(PersonName, hidden=True, person=hidden_person, script="Latn", kind="native")
    # An internal name form of a public person (a name used in hiding): never shown, never a
    # way to find them.
    w.make(PersonName, hidden=True, person=person, script="Latn", kind="variant")

    shown_membership = w.make(
        Membership, hidden=False, person=person, organisation=org, role="member"
    )
    w.cite(shown_membership, source, hidden=False)
    for member, organisation, is_public in [
        (person, org, False),
        (hidden_person, org, True),
        (person, hidden_org, True),
    ]:
        membership = w.make(Membership, hidden=True, person=member, organisation=organisation)
        membership.is_public = is_public
        membership.save()
        w.cite(membership, source, hidden=True)

    hidden_event = w.make(Event, hidden=True, type="killing", place=city)
    w.cite(hidden_event, source, hidden=True)
    # The public event whose victim is a private person, at a private place, part of a
    # private event, with private perpetrators and participants.
    event = w.make(
        Event,
        hidden=False,
        slug="public-event",
        type="assault",
        title_en="A public event",
        date="2012-06",
        place=hidden_place,
        part_of=hidden_event,
    )
    w.cite(event, source, hidden=False)
    w.cite(event, hidden_source, hidden=True)
    w.make(
        Event,
        hidden=False,
        slug="event-in-street",
        type="protest",
        title_en="A protest",
        date="2013",
        place=under_hidden,
    )
    shown_act = w.make(Act, hidden=False, event=event, type="threat", victim=person)
    w.make(Involvement, hidden=False, act=shown_act, perpetrator_organisation=org, degree="accused")
    w.make(Involvement, hidden=True, act=shown_act, perpetrator=hidden_person, degree="direct")
    w.make(
        Involvement,
        hidden=True,
        act=shown_act,
        perpetrator_organisation=hidden_org,
        degree="suspected",
    )
    withheld_act = w.make(Act, hidden=True, event=event, type="assault", victim=hidden_person)
    withheld_act.date = None
    withheld_act.save()
    hidden_act = w.make(Act, hidden=True, event=hidden_event, type="killing", victim=person)
    w.make(Involvement, hidden=True, act=hidden_act, degree="direct")
    w.make(Participation, hidden=False, event=event, person=person, role="witness")
    w.make(Participation, hidden=True, event=event, person=hidden_person, role="legal_counsel")
    w.make(Participation, hidden=True, event=event, organisation=hidden_org, role="supporter")
    w.make(Participation, hidden=True, event=hidden_event, person=person, role="organiser")

    facility = w.make(
        DetentionFacility,
        hidden=False,
        slug="colony",
        name_en="Colony",
        place=city,
        postal_address="Colony, City",
    )
    hidden_facility = w.make(DetentionFacility, hidden=True, place=hidden_place)
    for held, where, is_public in [
        (person, facility, True),
        (person, hidden_facility, True),  # shown, with the place of detention withheld
        (person, facility, False),
        (hidden_person, facility, True),
    ]:
        shown_here = is_public and held is person
        detention = w.make(
            Detention, hidden=not shown_here, person=held, facility=where, correspondence="open"
        )
        detention.is_public = is_public
        detention.save()
        w.cite(detention, source, hidden=not shown_here)

    w.make(Prosecution, hidden=False, person=person, charge="public charge", event=event)
    w.make(Prosecution, hidden=False, person=person, charge="second charge", event=hidden_event)
    w.make(Prosecution, hidden=True, person=person, event=hidden_event)
    hidden_prosecution = w.make(Prosecution, hidden=True, person=hidden_person)
    hidden_prosecution.is_public = True
    hidden_prosecution.save()

    criteria = list(PaceCriterion.objects.all())
    if not criteria:
        criteria = [PaceCriterion.objects.create(code="a", label_en="Criterion a")]
    w.models_built.add(model_key(PaceCriterion))
    shown = w.make(
        Recognition, hidden=False, person=person, recognised_by=hidden_org, reasons="public reasons"
    )
    shown.criteria.set(criteria)
    w.make(Recognition, hidden=True, person=person, recognised_by=org)
    other_hidden = w.make(Recognition, hidden=True, person=hidden_person, recognised_by=org)
    other_hidden.is_public = True
    other_hidden.save()

    w.models_built.add(model_key(Section))
    for key in CLASSIFICATION:
        if key not in w.models_built:
            model = apps.get_model(key)
            w.make_any(model, hidden=False)
            if "is_public" in {f.name for f in model._meta.get_fields()}:
                w.make_any(model, hidden=True)
    return w


# -- Crawling ----------------------------------------------------------------------------------


class LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.resources: list[str] = []
        self.scripts = 0
        self.selects: dict[str, list[str]] = {}
        self._select: str | None = None
        self.form_action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "link" and "href" in a:
            self.resources.append(a["href"])
        elif tag in {"img", "iframe", "embed", "source", "audio", "video"} and "src" in a:
            self.resources.append(a["src"])
        elif tag == "script" and a.get("type") != "application/ld+json":
            # A JSON-LD block is data the browser never runs (solidarity/public/structured.py);
            # its text is part of the body that the canary check reads.
            self.scripts += 1
        elif tag == "form":
            self.form_action = a.get("action", "")
        elif tag == "select":
            self._select = a.get("name", "")
            self.selects[self._select] = []
        elif tag == "option" and self._select is not None and a.get("value"):
            self.selects[self._select].append(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def body_of(response: HttpResponseBase) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response.content  # type: ignore[attr-defined, no-any-return]


def same_site(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"", "http"} and parts.netloc in {"", "testserver"}


def shows(canary: str, text: str) -> bool:
    """Whether `text` contains `canary`; a numeric canary (a year) only as a whole number, so
    that a colour such as #a41515 in a stylesheet is not mistaken for the year 1515."""
    if not canary.isdigit():
        return canary in text
    return re.search(rf"(?<![0-9A-Za-z]){canary}(?![0-9A-Za-z])", text) is not None


def crawl(client: Client, start: Iterable[str]) -> dict[str, HttpResponseBase]:
    """Every page reachable from `start` through links and every filter option."""
    seen: dict[str, HttpResponseBase] = {}
    queue = deque(start)
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response
        if "html" not in response.get("Content-Type", ""):
            continue
        parser = LinkParser()
        parser.feed(body_of(response).decode())
        assert parser.scripts == 0, f"{url} has a script"
        for resource in parser.resources:
            assert same_site(urljoin("http://testserver" + url, resource)), (url, resource)
            queue.append(urlsplit(urljoin(url, resource)).path)
        for href in parser.links:
            target = urljoin("http://testserver" + url, href)
            if same_site(target):
                parts = urlsplit(target)
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        if parser.form_action is not None:
            action = urlsplit(urljoin(url, parser.form_action)).path
            for name, values in parser.selects.items():
                queue.extend(f"{action}?{urlencode({name: v})}" for v in values)
    return seen


def contexts_of(response: HttpResponseBase) -> Iterator[dict[Any, Any]]:
    context = getattr(response, "context", None)
    if context is None:
        return
    for ctx in context if isinstance(context, ContextList) else [context]:
        flat: dict[Any, Any] = ctx.flatten() if isinstance(ctx, Context) else dict(ctx)
        yield flat


def model_objects_in(value: Any, depth: int = 0) -> Iterator[Any]:
    """Model instances, querysets or managers anywhere inside a template context value."""
    if isinstance(value, models.Model | models.QuerySet | BaseManager):
        yield value
    elif depth > 12 or isinstance(value, str | bytes | int | float | bool | type(None)):
        return
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from model_objects_in(getattr(value, field.name), depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from model_objects_in(item, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from model_objects_in(item, depth + 1)


# -- The proof ---------------------------------------------------------------------------------


@pytest.fixture
def world(section: Section) -> World:
    return build_world(section)


def test_every_classified_model_has_canaried_records(world: World) -> None:
    """The world covers every model in the classification, so a new model must join it."""
    assert world.models_built == set(CLASSIFICATION)
    planted_in = {label.split(" ")[1] for label in world.canaries.values()}
    for key, fields in CLASSIFICATION.items():
        for name, cls in fields.items():
            field = apps.get_model(key)._meta.get_field(name)
            text_like = isinstance(field, models.CharField | models.TextField)
            if cls is not FieldClass.PUBLIC and text_like and not field.choices:
                assert f"{key}.{name}" in planted_in, f"no canary in {key}.{name}"


@pytest.mark.django_db(transaction=True)  # the real task worker commits, as in production
def test_no_canary_reaches_any_public_response(
    client: Client,
    world: World,
    refusing_mailbox: Mailbox,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Crawling the whole site (pages, feeds, API exports), probing hidden records, signing a
    petition through its confirmation e-mail, a refused delivery and a server error with DEBUG
    off show no canary in any response, in any log record (tracebacks included) or in any
    e-mail sent — and a signer's own details only in the e-mail to that signer."""
    settings.DEBUG = False
    settings.EMAIL_BACKEND = PRODUCTION_SMTP_BACKEND
    # The crawl searches for every canary from one address: the per-client search limit would
    # refuse most of them (the limit itself is tested in test_s3_limits.py).
    settings.SOLIDARITY_SEARCH_RATE = "100000/60"
    # Django's debug records put whole template contexts (a signer's name in an e-mail's
    # context) and SQL parameters into their text: the settings must never let them out.
    for name in ("django.template", "django.db.backends"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
    with captured_logs() as logs:
        _crawl_probe_and_search(client, world)
        failed_tasks = _sign_confirm_refuse_and_fail(client, world, refusing_mailbox, monkeypatch)

    canaries = {**world.canaries, **dict.fromkeys(SIGNER_DETAILS, "a signer's detail")}
    assert logs.records, "the log capture saw nothing: it is blind"
    log_text = "\n".join(logs.records)
    for expected in ("Not Found", "Internal Server Error", "Traceback", "state=SUCCESSFUL"):
        assert expected in log_text, f"no {expected!r} among the captured records: blind?"
    for record in logs.records:
        leaked = [f"{c} ({label})" for c, label in canaries.items() if shows(c, masked(record))]
        assert not leaked, f"a log record leaks {leaked}: {record[:2000]}"
    for traceback in failed_tasks:
        leaked = [c for c in canaries if shows(c, masked(traceback))]
        assert not leaked, f"the task table keeps {leaked} in a traceback: {traceback}"

    mails = refusing_mailbox.messages
    assert len(mails) == 1, [m["To"] for m in mails]  # the signer's; the refused one got none
    for message in mails:
        text = mail_text(refusing_mailbox, message)
        leaked = [f"{c} ({label})" for c, label in world.canaries.items() if shows(c, text)]
        assert not leaked, f"an e-mail to {message['To']} leaks {leaked}"
        others = [v for v in SIGNER_DETAILS if v not in SIGNER.values() and v in text]
        assert not others, f"an e-mail to {message['To']} names other signers: {others}"


def _crawl_probe_and_search(client: Client, world: World) -> None:
    """Every public page, feed and export, the hidden records' addresses and the search box:
    no canary in any response, no model instance in any template context."""
    exports = [
        reverse("api:popolo_all"),
        *(reverse(f"api:popolo_{kind}") for kind in POPOLO_KINDS),
        *(reverse(f"api:csv_{kind}") for kind in CSV_KINDS),
    ]
    pages = crawl(client, ["/en/", *(f"/en/events/?year={y}" for y in range(2000, 2016)), *exports])
    probes: dict[str, HttpResponseBase] = {}
    detail_urls = {
        Person: "/en/people/{}/",
        Organisation: "/en/organisations/{}/",
        Event: "/en/events/{}/",
    }
    for model, pattern in detail_urls.items():
        for slug in world.hidden_slugs.get(model, []):
            probes[pattern.format(slug)] = client.get(pattern.format(slug))
    for slug in world.hidden_slugs.get(Person, []):
        probes[f"/en/events/?person={slug}"] = client.get(f"/en/events/?person={slug}")
    for slug in world.hidden_slugs.get(Place, []):
        probes[f"/en/events/?place={slug}"] = client.get(f"/en/events/?place={slug}")

    assert "/en/events/public-event/" in pages and "/en/people/public-person/" in pages
    assert len(pages) > 20
    not_found = client.get("/en/people/no-one-by-this-name/")
    for url, response in {**pages, **probes}.items():
        if url in probes and not url.startswith("/en/events/?"):
            assert response.status_code == 404, url
            assert body_of(response) == body_of(not_found), f"{url} differs from a plain 404"
        else:
            assert response.status_code == 200, url
        text = " ".join(
            [
                str(response.status_code),
                response.reason_phrase,
                # A length is a number, not data: it could pass for a numeric canary.
                *(f"{k}: {v}" for k, v in response.items() if k.lower() != "content-length"),
                body_of(response).decode(errors="replace"),
            ]
        )
        leaked = [f"{c} ({label})" for c, label in world.canaries.items() if shows(c, text)]
        assert not leaked, f"{url} leaks {leaked}"
        for context in contexts_of(response):
            for key, value in context.items():
                found = list(model_objects_in(value))
                assert not found, f"{url}: context {key!r} holds {found!r}"

    # The search box, asked for every canary as HTML and as JSON: the answer echoes the
    # query, but no result may hold it and no other canary may appear at all.
    for canary in world.canaries:
        url = "/en/search/?" + urlencode({"q": canary})
        for accept in ("text/html", "application/json"):
            response = client.get(url, headers={"Accept": accept})
            assert response.status_code == 200, url
            text = body_of(response).decode()
            leaked = [c for c in world.canaries if c != canary and shows(c, text)]
            assert not leaked, f"{url} ({accept}) leaks {leaked}"
            if accept == "application/json":
                results = json.dumps(json.loads(text)["results"], ensure_ascii=False)
            else:
                results = text.partition('class="card-list search-results"')[2]
                results = results.partition("</ul>")[0]
            assert not shows(canary, results), f"{url} ({accept}) finds {world.canaries[canary]}"

    event_page = body_of(pages["/en/events/public-event/"]).decode()
    assert "a person whose identity is withheld" in event_page
    assert "an organisation whose identity is withheld" in event_page
    person_page = body_of(pages["/en/people/public-person/"]).decode()
    assert "dead" not in person_page  # the killing is recorded only in a private event
    for url in ("/en/events/?person=" + world.hidden_slugs[Person][0],):
        assert "No person on this site matches" in body_of(probes[url]).decode()


# -- Logs and e-mail -----------------------------------------------------------------------------

# What production sends mail through when SOLIDARITY_EMAIL_HOST is set (solidarity/settings.py).
PRODUCTION_SMTP_BACKEND = "solidarity.safety.mail.EmailBackend"
SIGNER = {
    "name": "Cnrysigner Anna",
    "email": "cnry-signer@example.org",
    "country": "Cnrycountry",
    "comment": "cnry-signer-comment",
}
REFUSED = "cnry-refused@example.org"  # the SMTP server rejects it, echoing it in its reply
CRASHED = "cnry-crashed@example.org"  # signing fails with a server error
SIGNER_DETAILS = [*SIGNER.values(), REFUSED, CRASHED]
# aiosmtpd's logger: the test's SMTP server stands for the recipient's provider, outside us.
OUTSIDE_LOGGERS = ("mail.log",)
_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class LogCapture(logging.Handler):
    """Every record as a log file or an error tracker would keep it: the message, the
    traceback, the arguments and any extra attributes. The path of a request is what the client
    sent, so it is blanked out: a client asking for an address is not a leak."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(OUTSIDE_LOGGERS):
            return
        extras = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}
        text = f"{self.format(record)} args={record.args!r} extra={extras!r}"
        path = getattr(getattr(record, "request", None), "path", None)
        if path:
            text = text.replace(path, "<path as requested>")
        self.records.append(text)


@contextmanager
def captured_logs() -> Iterator[LogCapture]:
    """A handler on the root logger and on every logger that does not propagate to it, with
    the levels the settings configure, except the root's: down to DEBUG, so that every record
    of our own code and of libraries without a level of their own is seen."""
    handler = LogCapture()
    loggers = [logging.root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    root_level = logging.root.level
    logging.root.setLevel(logging.DEBUG)
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        logging.root.setLevel(root_level)
        for logger in loggers:
            logger.removeHandler(handler)


def masked(text: str) -> str:
    """`text` without the numbers that are not data: source line numbers of tracebacks and
    task ids, either of which could pass for a numeric canary (a year such as 1515)."""
    text = re.sub(r"\bline \d+", "line N", text)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", text)


def mail_text(mailbox: Mailbox, message: ParsedMessage) -> str:
    # The Message-ID holds the sending process's id and the Date a time: numbers, not data.
    headers = [f"{k}: {v}" for k, v in message.items() if k.lower() not in {"message-id", "date"}]
    return "\n".join([*headers, mailbox.body(message)])


class RefusingMailbox(Mailbox):
    """Refuses recipients whose address contains "refused", echoing the address in its reply
    as Postfix does ("550 5.1.1 <…>: Recipient address rejected")."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if "refused" in address:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_mailbox(settings: Settings) -> Iterator[RefusingMailbox]:
    box = RefusingMailbox()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    try:
        yield box
    finally:
        controller.stop()


def _run_worker() -> None:
    """The real database worker until the queue is empty, logging as `solidarity serve` runs
    it (verbosity 1: every task started, finished or failed)."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=1)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _sign(client: Client, petition: Any, email: str) -> HttpResponseBase:
    return client.post(
        reverse("campaigns:petition", args=[petition.slug]),
        {
            **SIGNER,
            "email": email,
            "language": "en",
            "processing_consent": "on",
            "public_name_consent": "on",
        },
    )


class _Crash:
    def __init__(self, module_path: str) -> None:
        self.module_path = module_path  # what the code asks of a task besides enqueue

    def enqueue(self, *args: Any) -> None:
        raise OperationalError("database is locked")


def _sign_confirm_refuse_and_fail(
    client: Client, world: World, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """Sign and confirm through the e-mail, have a delivery refused, and crash a signing;
    returns the tracebacks that the task table keeps of failed tasks."""
    petition = Petition.objects.filter(is_public=True, accepting=True).first()
    assert petition is not None
    assert _sign(client, petition, SIGNER["email"]).status_code == 302
    _run_worker()
    [message] = mailbox.to(SIGNER["email"])
    link = re.search(r"http://testserver(/\S+/confirm/\S+/)", mailbox.body(message))
    assert link, mailbox.body(message)
    assert client.get(link.group(1)).status_code == 200
    assert client.post(link.group(1)).status_code == 200
    assert Signature.objects.filter(status=Signature.Status.CONFIRMED).count() == 1

    assert _sign(client, petition, REFUSED).status_code == 302
    _run_worker()
    failed = list(DBTaskResult.objects.filter(status="FAILED").values_list("traceback", flat=True))
    assert len(failed) == 1, "the refused delivery should fail its task"

    # A signing request that fails in its transaction (queueing the worker's task)...
    recording = campaign_tasks.record_received_signatures
    monkeypatch.setattr(campaign_tasks, "record_received_signatures", _Crash(recording.module_path))
    crashing = Client(raise_request_exception=False)
    crashed = _sign(crashing, petition, CRASHED)
    assert crashed.status_code == 500
    body = body_of(crashed).decode()
    assert not [v for v in SIGNER_DETAILS if v in body], "the error page shows the form"
    monkeypatch.setattr(campaign_tasks, "record_received_signatures", recording)
    # ...and the worker failing to record a received signature (intake.py logs the failure).
    confirmation = campaign_tasks.send_signature_confirmation
    monkeypatch.setattr(
        campaign_tasks, "send_signature_confirmation", _Crash(confirmation.module_path)
    )
    assert _sign(client, petition, CRASHED).status_code == 302
    _run_worker()
    # (The world also holds a canary-filled row of every table, this one's included.)
    kept = SignatureIntake.objects.order_by("pk").last()
    assert kept is not None and kept.failure == "OperationalError"
    return failed


def test_only_the_data_module_touches_models() -> None:
    """Views, forms and template tags import no model, ORM or domain module; only data.py does."""
    forbidden = (
        "solidarity.documentation",
        "solidarity.core.models",
        "solidarity.core.classification",
        "django.db",
        "django.contrib.contenttypes",
        "django.apps",
    )
    checked = []
    for path in sorted(PUBLIC_PACKAGE.rglob("*.py")):
        if path.name in {"data.py", "apps.py"} or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
                if node.level and node.module in {None, "models"}:
                    names += [alias.name for alias in node.names]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
                assert name != "models", f"{path.name} imports models"
            if isinstance(node, ast.Attribute):
                assert node.attr not in {"objects", "_default_manager"}, path.name
        checked.append(path.name)
    assert "views.py" in checked


# Only the login reads it; its TOTP parameters (step, digits…) are words a public template may
# well use for something else.
LOGIN_MACHINERY = {"accounts.AppDevice"}


def test_templates_only_render_plain_data() -> None:
    """Templates load only our own tags and never name a non-public field or a manager."""
    classes = [
        (name, cls)
        for label, fields in CLASSIFICATION.items()
        if label not in LOGIN_MACHINERY
        for name, cls in fields.items()
    ]
    # Names that are public in no model at all (internal_notes, whereabouts, contact…).
    never_public = {n for n, c in classes if c is not FieldClass.PUBLIC} - {
        n for n, c in classes if c is FieldClass.PUBLIC
    }
    templates = sorted((PUBLIC_PACKAGE / "templates").rglob("*.html"))
    assert templates
    for path in templates:
        source = path.read_text()
        for library in re.findall(r"{%\s*load\s+([^%]+)%}", source):
            assert set(library.split()) <= {"i18n", "static", "public_tags"}, path.name
        variables = " ".join(re.findall(r"{[{%](.*?)[%}]}", source, re.S))
        words = set(re.findall(r"[\w.]+", variables))
        for word in words:
            parts = set(word.split("."))
            assert not parts & never_public, f"{path.name} names {word}"
            assert not parts & {"objects", "all", "section", "is_public"}, path.name
            assert not any(p.endswith("_set") for p in parts), path.name
