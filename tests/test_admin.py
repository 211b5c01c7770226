"""The back office, driven like a browser: pages are fetched, their forms read back with the
values the admin rendered, a few fields changed, and the whole form posted."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, models
from django.http import HttpRequest
from django.test import Client
from django.urls import path, reverse

from solidarity.core.classification import FieldClass, field_class
from solidarity.core.models import Record, Section
from solidarity.core.partialdate import PartialDate
from solidarity.documentation.admin import SENSITIVE_WARNING, CitationInline, EventAdmin
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
    Sourced,
    SourceFile,
)
from solidarity.documentation.models import Testimony as SealedTestimony
from solidarity.documentation.services import FACT_MODELS
from solidarity.safety.models import Role
from tests.conftest import verified_login

CITATIONS = "documentation-citation-content_type-object_id"
NO_SOURCE = "Cite at least one source for this fact."
FormData = dict[str, Any]


# -- Reading a rendered admin form back, as a browser would submit it ---------------------------


class _FormReader(HTMLParser):
    """Collects what a browser would post from the form with the given id."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.pairs: list[tuple[str, str]] = []
        self._select: tuple[str, bool] | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = attr.get("id") == self.form_id
        if not self.inside:
            return
        name = attr.get("name", "")
        if tag == "input" and name:
            kind = attr.get("type", "text")
            if kind in {"submit", "button", "reset", "image", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attr:
                return
            self.pairs.append((name, attr.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = (name, "multiple" in attr)
            self._options = []
        elif tag == "option" and self._select:
            self._options.append((attr.get("value", ""), "selected" in attr))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            self.pairs.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.pairs.append((self._textarea, text.removeprefix("\r\n").removeprefix("\n")))
            self._textarea = None


def read_form(client: Client, url: str) -> FormData:
    """The data the admin page at `url` would post unchanged, empty-form templates left out."""
    response = client.get(url)
    assert response.status_code == 200
    model_name = response.context["opts"].model_name
    reader = _FormReader(f"{model_name}_form")
    reader.feed(response.content.decode())
    data: FormData = {}
    for name, value in reader.pairs:
        if "__prefix__" in name:
            continue
        if name in data:
            previous = data[name]
            data[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            data[name] = value
    assert "csrfmiddlewaretoken" in data, f"no form {model_name}_form on {url}"
    return data


def set_row(data: FormData, prefix: str, index: int, **fields: object) -> None:
    """Fill row `index` of an inline formset, adding it if the page did not render it."""
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    if index >= total:
        data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for key, value in fields.items():
        data[f"{prefix}-{index}-{key}"] = "" if value is None else str(value)


def page(response: Any) -> str:
    content: bytes = response.content
    return content.decode()


def add_url(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def change_url(obj: models.Model) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def changelist_url(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


# -- Fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def coordinator(db: None, django_user_model: type[User], section: Section) -> User:
    # Being a superuser grants no documentation data (solidarity.safety); the role does.
    user = django_user_model.objects.create_superuser(
        username="coordinator", email="coordinator@example.org", password="a long passphrase"
    )
    Role.objects.create(user=user, section=section, role="coordinator")
    return user


@pytest.fixture
def browser(client: Client, coordinator: User) -> Client:
    return verified_login(client, coordinator)


def cite(fact: Sourced, source: Source, reliability: str = "reliable") -> Citation:
    return Citation.objects.create(
        content_type=ContentType.objects.get_for_model(fact),
        object_id=fact.pk,
        source=source,
        reliability=reliability,
    )


class World:
    """The seed case: Socialist Resistance of Kazakhstan and its leader's death in June 2012."""

    def __init__(self, section: Section, source: Source) -> None:
        self.section, self.source = section, source
        common = {"section": section, "is_public": True}
        self.obituary = Source.objects.create(
            **common,
            slug="cwi-2012-06-06",
            title="Leader of Socialist Movement Kazakhstan found dead",
            publisher="Committee for a Workers' International",
            published="2012-06-06",
        )
        self.kazakhstan = Place.objects.create(
            **common, slug="kazakhstan", name_en="Kazakhstan", name_ru="Казахстан", kind="country"
        )
        self.zhanaozen = Place.objects.create(
            **common, slug="zhanaozen", name_en="Zhanaozen", kind="city", parent=self.kazakhstan
        )
        self.srk = Organisation.objects.create(
            **common,
            slug="srk",
            name_en="Socialist Resistance of Kazakhstan",
            name_ru="Социалистическое Сопротивление Казахстана",
            kind="political",
            founded="2002",
            country=self.kazakhstan,
        )
        self.cwi = Organisation.objects.create(
            **common,
            slug="cwi",
            name_en="Committee for a Workers' International",
            kind="international",
        )
        self.relation = OrganisationRelation.objects.create(
            **common, organisation=self.srk, kind="section_of", other=self.cwi, start="2002"
        )
        self.takhir = Person.objects.create(
            **common,
            slug="takhir-mukhamedzyanov",
            given_name="Takhir",
            patronymic="Narimanovich",
            family_name="Mukhamedzyanov",
            whereabouts="",
        )
        PersonName.objects.create(
            person=self.takhir,
            name="Тахир Нариманович Мухамедзянов",
            language="ru",
            script="Cyrl",
            kind="native",
        )
        self.ainur = Person.objects.create(
            **common, slug="ainur-kurmanov", given_name="Ainur", family_name="Kurmanov"
        )
        self.vadim = Person.objects.create(
            **common, slug="vadim-kuramshin", given_name="Vadim", family_name="Kuramshin"
        )
        self.membership = Membership.objects.create(
            **common, person=self.takhir, organisation=self.srk, role="leader"
        )
        self.founding = Event.objects.create(
            **common, slug="founding", type="founding", title_en="SRK founded", date="2002"
        )
        self.death = Event.objects.create(
            **common,
            slug="takhir-found-dead",
            type="suspicious_death",
            title_en="Takhir Mukhamedzyanov found dead",
            date="2012-06",
            place_detail="his home",
        )
        self.threats = Event.objects.create(
            **common,
            slug="death-threats",
            type="threat",
            title_en="Death threats against Takhir Mukhamedzyanov",
            date="2012-03",
        )
        self.massacre = Event.objects.create(
            **common,
            slug="zhanaozen-massacre",
            type="massacre",
            title_en="Zhanaozen massacre",
            date="2011-12-16",
            place=self.zhanaozen,
        )
        # Created death first, threats second: the timeline must follow dates, not ids.
        self.death_act = Act.objects.create(
            event=self.death, type="suspicious_death", victim=self.takhir
        )
        Act.objects.create(event=self.threats, type="threat", victim=self.takhir)
        Involvement.objects.create(
            act=self.death_act,
            perpetrator_description="state-affiliated interests",
            degree="accused",
        )
        Participation.objects.create(event=self.massacre, person=self.vadim, role="legal_counsel")
        self.facility = DetentionFacility.objects.create(
            **common, slug="sizo-1", name_en="SIZO No. 1"
        )
        self.prosecution = Prosecution.objects.create(
            **common, person=self.vadim, charge="", outcome="pending", opened="2012-08"
        )
        self.detention = Detention.objects.create(**common, person=self.vadim, start="2012-08")
        # The PACE 1900 criteria are loaded by a migration.
        self.criterion = PaceCriterion.objects.get(code="a")
        self.recognition = Recognition.objects.create(
            **common, person=self.vadim, recognised_by=self.cwi, date="2012-09"
        )
        self.recognition.criteria.add(self.criterion)
        for fact in (
            self.srk,
            self.cwi,
            self.relation,
            self.takhir,
            self.ainur,
            self.vadim,
            self.membership,
            self.founding,
            self.threats,
            self.massacre,
            self.prosecution,
            self.detention,
            self.recognition,
        ):
            cite(fact, source)
        cite(self.death, self.obituary, "partisan")
        # Sealed fields stay empty here: they are written on their own page (test_safety_*).
        self.testimony = SealedTestimony.objects.create(
            section=section, reference="T-2012-06", person=self.takhir, given_on="2012-06"
        )


@pytest.fixture
def world(section: Section, public_source: Source) -> World:
    return World(section, public_source)


# -- Every page answers ------------------------------------------------------------------------

REGISTERED = [
    Section,
    Source,
    Place,
    DetentionFacility,
    PaceCriterion,
    Organisation,
    OrganisationRelation,
    Person,
    Membership,
    Event,
    Act,
    Prosecution,
    Detention,
    Recognition,
    SealedTestimony,
]
# Edited only as rows on their parent's page.
INLINE_ONLY = {PersonName, Participation, Involvement, Citation, SourceFile}


def test_every_documentation_model_has_a_place_in_the_back_office() -> None:
    """Each model of the domain is registered, or edited inline on its parent's page."""
    ours = [
        model for model in apps.get_models() if model._meta.app_label in {"core", "documentation"}
    ]
    registered = {model for model in ours if admin.site.is_registered(model)}
    assert registered == set(REGISTERED)
    assert set(ours) - registered == INLINE_ONLY


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model.__name__)
def test_every_page_answers_and_saves_back_unchanged(
    browser: Client, world: World, model: type[models.Model]
) -> None:
    """Changelist, search, add and change pages answer, and a change page posted back as
    rendered saves without complaint (existing data passes the admin's own validation)."""
    obj = model._default_manager.first()
    assert obj is not None
    assert browser.get(changelist_url(model)).status_code == 200
    assert browser.get(changelist_url(model), {"q": "Мухамедзянов"}, follow=True).status_code == 200
    assert browser.get(add_url(model)).status_code == 200
    data = read_form(browser, change_url(obj))
    response = browser.post(change_url(obj), data)
    assert response.status_code == 302, response.context and _errors(response)


def _errors(response: Any) -> list[Any]:
    """Every error on a re-rendered change form, for a readable assertion message."""
    found: list[Any] = [response.context["adminform"].form.errors]
    for inline in response.context["inline_admin_formsets"]:
        found += [inline.formset.errors, inline.formset.non_form_errors()]
    return found


def test_every_fact_is_edited_with_its_sources() -> None:
    """Every record that states facts has the citations inline on its page."""
    for model in FACT_MODELS:
        model_admin = admin.site.get_model_admin(model)
        assert CitationInline in model_admin.inlines, model.__name__


def test_fields_are_laid_out_by_their_class(rf: Any, coordinator: User) -> None:
    """Every editable field appears once; public fields come first, internal ones in a
    collapsed "Internal" group, personal and sealed ones under the never-publish warning."""
    request: HttpRequest = rf.get("/")
    request.user = coordinator
    for model in REGISTERED:
        if model is Section:
            continue
        model_admin = admin.site.get_model_admin(model)
        fieldsets = model_admin.get_fieldsets(request, model._default_manager.first())
        shown = [name for _title, opts in fieldsets for name in opts["fields"]]
        assert all(isinstance(name, str) for name in shown)
        editable = [
            f.name
            for f in model._meta.get_fields()
            if getattr(f, "editable", False) and not f.auto_created and f.concrete
        ]
        model_fields = [name for name in shown if name in editable]
        assert sorted(model_fields) == sorted(editable), model.__name__
        by_title = {str(title): opts for title, opts in fieldsets}
        for title, opts in fieldsets:
            classes = {
                field_class(model, n)
                for n in opts["fields"]
                if isinstance(n, str) and n in editable
            }
            if str(title) == "Internal":
                assert classes == {FieldClass.INTERNAL}
                assert "collapse" in opts.get("classes", ())
            elif str(title) == "Never to be published":
                assert classes <= {FieldClass.PERSONAL, FieldClass.SEALED}
                assert opts.get("description") == SENSITIVE_WARNING
            elif str(title) == "Section and publication":
                assert list(opts["fields"]) == ["section", "is_public"]
            else:
                assert classes <= {FieldClass.PUBLIC}, (model.__name__, title)
        if issubclass(model, Record):
            titles = list(by_title)
            assert titles.index("Section and publication") > 0


def test_the_person_page_warns_before_the_sealed_fields(browser: Client, world: World) -> None:
    """Whereabouts and contact details sit in their own group under a never-publish warning."""
    html = page(browser.get(change_url(world.takhir)))
    warning = html.index("Never publish these fields")
    # Whereabouts are sealed: a panel that links to their own unlock-protected page, no input.
    assert 'name="whereabouts"' not in html
    assert html.index("field-whereabouts_sealed") > warning
    assert html.index('name="contact"') > warning
    assert html.index('name="given_name"') < warning


# -- Creating an event with everything in one POST ---------------------------------------------


def test_it_creates_an_event_with_acts_participants_and_a_source_in_one_post(
    browser: Client, world: World
) -> None:
    """One submission creates the event, its acts, its participants and its citation."""
    data = read_form(browser, add_url(Event))
    data.update(
        title_en="Vadim Kuramshin arrested",
        slug="kuramshin-arrested",
        type="detention",
        date="before 5 March 2012",
        section=str(world.section.pk),
        place=str(world.kazakhstan.pk),
    )
    set_row(data, "acts", 0, type="detention", victim=world.vadim.pk, victim_description="")
    set_row(data, "acts", 1, type="threat", victim="", victim_description="his wife")
    set_row(data, "participations", 0, person=world.ainur.pk, organisation="", role="witness")
    set_row(data, "participations", 1, person="", organisation=world.cwi.pk, role="supporter")
    set_row(data, CITATIONS, 0, source=world.source.pk, reliability="reliable", locator="§ 4")

    response = browser.post(add_url(Event), data)

    assert response.status_code == 302, _errors(response)
    event = Event.objects.get(slug="kuramshin-arrested")
    assert event.date == PartialDate.parse("../2012-03-05")
    assert [(a.type, a.victim, a.victim_description) for a in event.acts.all()] == [
        ("detention", world.vadim, ""),
        ("threat", None, "his wife"),
    ]
    assert {(p.person, p.organisation, p.role) for p in event.participations.all()} == {
        (world.ainur, None, "witness"),
        (None, world.cwi, "supporter"),
    }
    citation = event.citations.get()
    assert (citation.source, citation.reliability, citation.locator) == (
        world.source,
        "reliable",
        "§ 4",
    )


def test_an_act_takes_its_perpetrators_on_its_own_page(browser: Client, world: World) -> None:
    """Involvements are added on the act's page, one perpetrator kind per row."""
    url = change_url(world.death_act)
    data = read_form(browser, url)
    set_row(
        data,
        "involvements",
        1,
        perpetrator="",
        perpetrator_organisation="",
        perpetrator_description="",
        degree="suspected",
    )
    response = browser.post(url, data)
    assert "Give exactly one perpetrator: a person, an organisation, or a description." in (
        page(response)
    )
    set_row(data, "involvements", 1, perpetrator_description="the police")
    response = browser.post(url, data)
    assert response.status_code == 302, _errors(response)
    assert world.death_act.involvements.count() == 2


# -- Validation: each message on the page, nothing saved ---------------------------------------


def test_an_end_before_the_start_is_shown_against_the_end(browser: Client, world: World) -> None:
    """A membership ending before it began is refused, the message under "until"."""
    data = read_form(browser, add_url(Membership))
    data.update(
        person=str(world.ainur.pk),
        organisation=str(world.srk.pk),
        role="member",
        start="June 2012",
        end="March 2011",
        section=str(world.section.pk),
    )
    set_row(data, CITATIONS, 0, source=world.source.pk)
    before = (Membership.objects.count(), Citation.objects.count())

    response = browser.post(add_url(Membership), data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["end"] == ["The end (March 2011) is before the start (June 2012)."]
    assert "The end (March 2011) is before the start (June 2012)." in page(response)
    assert (Membership.objects.count(), Citation.objects.count()) == before


def test_a_date_it_cannot_read_is_refused_with_the_forms_it_can(
    browser: Client, world: World
) -> None:
    """ "June-ish 2012" is refused with a message listing the forms it understands."""
    data = read_form(browser, add_url(Event))
    data.update(
        title_en="Raid",
        slug="raid",
        type="detention",
        date="June-ish 2012",
        section=str(world.section.pk),
    )
    set_row(data, CITATIONS, 0, source=world.source.pk)
    events = Event.objects.count()

    response = browser.post(add_url(Event), data)

    message = (
        "“June-ish 2012” is not a date we understand. Write 2011-12-16, 2012-06, 2002, "
        "c. 2002, June 2012, 2011/2012 or between 2011 and 2012."
    )
    assert response.context["adminform"].form.errors["date"] == [message]
    assert message in page(response)
    assert 'value="June-ish 2012"' in page(response)
    assert Event.objects.count() == events


def test_the_date_input_shows_canonical_text_and_lists_the_forms(
    browser: Client, world: World
) -> None:
    """A stored date is shown in its canonical form, with help listing what may be typed."""
    html = page(browser.get(change_url(world.death)))
    assert 'name="date" value="2012-06"' in html
    assert "between 2011 and 2012, before 5 March 2012" in html
    act_html = page(browser.get(change_url(world.death_act)))
    assert "Leave empty: the event's date. Write the date as precisely" in act_html


def test_a_person_twice_in_one_role_is_refused(browser: Client, world: World) -> None:
    """The same witness twice in one submission gets the constraint's own message."""
    data = read_form(browser, add_url(Event))
    data.update(
        title_en="Trial",
        slug="trial",
        type="protest",
        date="2012-08",
        section=str(world.section.pk),
    )
    set_row(data, "participations", 0, person=world.ainur.pk, organisation="", role="witness")
    set_row(data, "participations", 1, person=world.ainur.pk, organisation="", role="witness")
    set_row(data, "acts", 0, type="detention", victim=world.vadim.pk)
    set_row(data, "acts", 1, type="detention", victim=world.vadim.pk)
    set_row(data, CITATIONS, 0, source=world.source.pk)

    response = browser.post(add_url(Event), data)

    html = page(response)
    assert response.status_code == 200
    assert "This person is already listed in this role." in html
    assert "This person is already a victim of this act here." in html
    assert "Please correct the duplicate" not in html
    assert not Event.objects.filter(slug="trial").exists()


def test_a_person_already_listed_in_a_role_is_refused(browser: Client, world: World) -> None:
    """Adding a row that repeats one already saved is refused with the same message."""
    url = change_url(world.massacre)
    data = read_form(browser, url)
    set_row(data, "participations", 1, person=world.vadim.pk, organisation="", role="legal_counsel")
    response = browser.post(url, data)
    assert "This person is already listed in this role." in page(response)
    assert world.massacre.participations.count() == 1


def test_a_name_form_given_twice_is_refused(browser: Client, world: World) -> None:
    """Two identical name forms for one person are refused with the constraint's message."""
    url = change_url(world.ainur)
    data = read_form(browser, url)
    set_row(data, "names", 0, name="Айнур Курманов", language="ru", script="Cyrl", kind="native")
    set_row(data, "names", 1, name="Айнур Курманов", language="kk", script="Cyrl", kind="native")
    response = browser.post(url, data)
    assert "This person already has this name form." in page(response)
    assert not world.ainur.names.exists()


def test_a_fact_without_a_source_is_refused(browser: Client, world: World) -> None:
    """An event with no citation is refused, and nothing of it is saved."""
    data = read_form(browser, add_url(Event))
    data.update(
        title_en="Rumour",
        slug="rumour",
        type="threat",
        date="2012",
        section=str(world.section.pk),
    )
    set_row(data, "acts", 0, type="threat", victim=world.ainur.pk)

    response = browser.post(add_url(Event), data)

    assert response.status_code == 200
    assert NO_SOURCE in page(response)
    assert not Event.objects.filter(slug="rumour").exists()
    assert not Act.objects.filter(victim=world.ainur).exists()


@pytest.mark.parametrize("model", FACT_MODELS, ids=lambda model: model.__name__)
def test_the_last_source_of_a_fact_cannot_be_removed(
    browser: Client, world: World, model: type[Sourced]
) -> None:
    """Deleting the only citation of any kind of fact is refused with the same message."""
    fact = model._default_manager.first()
    assert fact is not None
    url = change_url(fact)
    data = read_form(browser, url)
    data[f"{CITATIONS}-0-DELETE"] = "on"

    response = browser.post(url, data)

    assert response.status_code == 200
    assert NO_SOURCE in page(response)
    assert fact.citations.count() == 1


def test_a_source_cited_twice_for_one_fact_is_refused(browser: Client, world: World) -> None:
    """The same source twice on one fact is refused before it reaches the database."""
    url = change_url(world.srk)
    data = read_form(browser, url)
    set_row(data, CITATIONS, 1, source=world.source.pk, reliability="unknown")
    response = browser.post(url, data)
    assert "This source is already cited for this fact." in page(response)
    assert world.srk.citations.count() == 1


def test_a_membership_added_on_a_person_page_names_its_source(
    browser: Client, world: World
) -> None:
    """A membership row needs a source; given one, it is saved with that citation and in the
    person's section."""
    url = change_url(world.ainur)
    data = read_form(browser, url)
    set_row(
        data,
        "memberships",
        0,
        organisation=world.srk.pk,
        role="member",
        start="2002",
        end="",
        cite_reliability="reliable",
        cite_source="",
        cite_locator="",
    )

    response = browser.post(url, data)
    assert NO_SOURCE in page(response)
    assert not world.ainur.memberships.exists()

    set_row(data, "memberships", 0, cite_source=world.obituary.pk, cite_locator="para 2")
    response = browser.post(url, data)
    assert response.status_code == 302, _errors(response)
    membership = world.ainur.memberships.get()
    assert membership.section == world.ainur.section
    citation = membership.citations.get()
    assert (citation.source, citation.reliability, citation.locator) == (
        world.obituary,
        "reliable",
        "para 2",
    )


def test_the_source_field_of_an_inline_row_searches_sources(browser: Client, world: World) -> None:
    """The source picker on membership rows looks sources up by title (posted: M19)."""
    response = browser.post(
        reverse("admin:autocomplete"),
        {
            "app_label": "documentation",
            "model_name": "citation",
            "field_name": "source",
            "term": "found dead",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == [world.obituary.title]


# -- Never half-saved --------------------------------------------------------------------------


def test_an_invalid_row_leaves_the_record_unchanged(browser: Client, world: World) -> None:
    """A valid main form with one invalid act saves nothing, not even the main form."""
    url = change_url(world.death)
    data = read_form(browser, url)
    data["title_en"] = "Retitled"
    set_row(data, "acts", 1, type="threat", victim="", victim_description="")

    response = browser.post(url, data)

    assert "Choose the victim, or describe them if they have no record." in page(response)
    world.death.refresh_from_db()
    assert world.death.title_en == "Takhir Mukhamedzyanov found dead"
    assert world.death.acts.count() == 1


class FailingEventAdmin(EventAdmin):
    """Fails after the event and all its rows are written, as a full disk would."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: Any) -> None:
        super().save_related(request, form, formsets, change)
        raise DatabaseError("disk full after the inlines were written")


class _FailingSiteURLs:
    def __init__(self, site: admin.AdminSite) -> None:
        self.urlpatterns = [path("failing/", site.urls), path("admin/", admin.site.urls)]


def test_a_failure_after_a_partial_save_leaves_nothing(
    browser: Client, world: World, settings: Any
) -> None:
    """When saving breaks after the event and its acts reached the database, all of it is
    rolled back: the admin's add view runs in one transaction."""
    site = admin.AdminSite(name="failing")
    site.register(Event, FailingEventAdmin)
    settings.ROOT_URLCONF = _FailingSiteURLs(site)
    data = read_form(browser, add_url(Event))
    data.update(
        title_en="Half saved",
        slug="half-saved",
        type="detention",
        date="2012-08",
        section=str(world.section.pk),
    )
    set_row(data, "acts", 0, type="detention", victim=world.vadim.pk)
    set_row(data, CITATIONS, 0, source=world.source.pk)
    counts = (Event.objects.count(), Act.objects.count(), Citation.objects.count())

    with pytest.raises(DatabaseError, match="disk full"):
        browser.post("/failing/documentation/event/add/", data)

    assert (Event.objects.count(), Act.objects.count(), Citation.objects.count()) == counts
    assert not Event.objects.filter(slug="half-saved").exists()


# -- Finding and reading -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    ["Мухамедзянов", "мухамедзянов", "ТАХИР", "Mukhamedzyanov", "takhir narimanovich"],
)
def test_people_are_found_by_any_name_form(browser: Client, world: World, term: str) -> None:
    """A person is found by a name in any script and any letter case."""
    response = browser.get(changelist_url(Person), {"q": term}, follow=True)
    found = list(response.context["cl"].result_list)
    assert found == [world.takhir]


def test_the_person_page_shows_the_status_timeline_in_order(browser: Client, world: World) -> None:
    """Statuses appear in date order with their dates and links to the events."""
    html = page(browser.get(change_url(world.takhir)))
    timeline = html[html.index('class="status-timeline"') :]
    timeline = timeline[: timeline.index("</table>")]
    assert timeline.index("March 2012") < timeline.index("threatened")
    assert timeline.index("threatened") < timeline.index("June 2012")
    assert timeline.index("June 2012") < timeline.index("dead")
    assert f'href="{change_url(world.threats)}"' in timeline
    assert f'href="{change_url(world.death)}"' in timeline


def test_a_person_with_no_acts_gets_an_explanation(browser: Client, world: World) -> None:
    """An empty timeline says why it is empty and where acts are recorded."""
    html = page(browser.get(change_url(world.ainur)))
    assert "No recorded act changes this person" in html
    assert "status, so they count as free." in html
    assert "No prosecution recorded." in html


def test_the_prisoner_record_summary_says_unknown_for_missing_values(
    browser: Client, world: World
) -> None:
    """The summary lists prosecutions, detentions and recognitions, with "unknown" where the
    sources are silent, and links to add more for this person."""
    html = page(browser.get(change_url(world.vadim)))
    summary = html[html.index("<h4>Prosecutions</h4>") :]
    assert f'<a href="{change_url(world.prosecution)}">unknown</a>' in summary
    assert "August 2012" in summary
    assert "pending" in summary
    assert f'<a href="{change_url(world.detention)}">unknown</a>' in summary
    assert f'<a href="{change_url(world.recognition)}">{world.cwi}</a>' in summary.replace(
        "&#x27;", "'"
    )
    assert f"?person={world.vadim.pk}&amp;section={world.section.pk}" in summary


def test_the_add_link_prefills_the_person(browser: Client, world: World) -> None:
    """ "Add a detention" from a person's page opens the form with that person chosen."""
    response = browser.get(add_url(Detention), {"person": world.vadim.pk})
    assert response.context["adminform"].form.initial["person"] == str(world.vadim.pk)


def test_events_are_listed_by_date_with_precision_and_filtered_by_year(
    browser: Client, world: World
) -> None:
    """The event list runs in date order, shows each date as written and its precision, and
    the year filter keeps the events that may fall in that year."""
    response = browser.get(changelist_url(Event))
    assert list(response.context["cl"].result_list) == [
        world.founding,
        world.massacre,
        world.threats,
        world.death,
    ]
    html = page(response)
    assert "16 December 2011" in html
    assert "June 2012" in html
    assert ">month<" in html
    assert ">day<" in html

    in_2012 = browser.get(changelist_url(Event), {"year": "2012"})
    assert list(in_2012.context["cl"].result_list) == [world.threats, world.death]
    approximate = Event.objects.create(
        section=world.section,
        slug="conference",
        type="founding",
        title_en="Conference",
        date="c. 2002",
    )
    in_2003 = browser.get(changelist_url(Event), {"year": "2003"})
    assert list(in_2003.context["cl"].result_list) == [approximate]
    assert browser.get(changelist_url(Event), {"type": "massacre"}).context["cl"].result_count == 1


def test_facts_without_a_source_can_be_listed(browser: Client, world: World) -> None:
    """Imported facts that cite nothing are found with the "sources" filter."""
    unsourced = Person.objects.create(
        section=world.section, slug="imported", given_name="Esenbek", family_name="Ukteshbayev"
    )
    response = browser.get(changelist_url(Person), {"cited": "no"})
    assert list(response.context["cl"].result_list) == [unsourced]


def test_a_source_page_lists_the_facts_citing_it(browser: Client, world: World) -> None:
    """A source's page links to every fact it is cited for."""
    html = page(browser.get(change_url(world.obituary)))
    assert f'href="{change_url(world.death)}"' in html
    assert "interested party" in html
