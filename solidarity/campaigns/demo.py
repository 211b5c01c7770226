"""The seed document's campaigns, loaded from `data/campaigns.yaml` onto the seed case.

Call `load_demo_campaigns()` after the seed case is loaded (`solidarity demo` does). The facts
are in the data file, not here: Campaign Kazakhstan demanded the release of Natalya Sokolova
and Bolat Atabayev, protested outside Kazakh embassies around Europe, and both were released
(the outcomes point at the documented release events); it still demands Vadim Kuramshin's
release and supports Ainur Kurmanov and Esenbek Ukteshbayev; ONJ ('Leave the People's Homes
Alone') fought evictions and Kazakhstan 2012 demanded democratic electoral reform.

Loading is one transaction: a file with one mistake changes nothing, and the `DemoError` names
the file and the path in it ("campaigns[0].demands[2].won_by"). It is idempotent: records are
found again by natural key (see the file's header) and saved only when the file says something
different, so loading twice leaves the database exactly as it was, timestamps included.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction

from solidarity.core.models import Section
from solidarity.documentation.models import Citation, Event, Organisation, Person, Source
from solidarity.documentation.vocabularies import Reliability

from . import services
from .models import ActionSeries, Campaign, Demand, DemandKind, DemandState

DEMO_CAMPAIGNS = Path(__file__).resolve().parent / "data" / "campaigns.yaml"
FORMAT_VERSION = 1

M = TypeVar("M", bound=models.Model)

# Keys each kind of entry may have: (required, optional).
_DOCUMENT = ({"version", "campaigns"}, set[str]())
_CAMPAIGN = (
    {"slug", "section", "title", "citations"},
    {"public", "organiser", "hide_organiser", "summary", "started", "ended", "demands", "series"},
)
_DEMAND = ({"kind", "text"}, {"person", "address", "demanded_on", "won_by"})
_SERIES = ({"slug", "title"}, {"public", "summary"})
_CITATION = ({"source"}, {"reliability", "quote", "locator"})
_LANGUAGES = ("en", "ru", "kk")
_SEED_HINT = "Load the seed case first (solidarity demo does)."


class DemoError(Exception):
    """The campaigns file cannot be loaded (or the seed case it builds on is missing).

    Nothing from the file was written.
    """

    def __init__(self, message: str, *, file: Path | None = None, path: str = "") -> None:
        self.file = file
        self.path = path
        where = ": ".join(str(x) for x in (file, path) if x)
        super().__init__(f"{where}: {message}" if where else message)


def load_demo_campaigns(path: Path = DEMO_CAMPAIGNS) -> list[Campaign]:
    """Load the campaigns file at `path` in one transaction and return its campaigns."""
    path = Path(path)
    if not Person.objects.exists():
        raise DemoError(_SEED_HINT, file=path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise DemoError(f"cannot read the file: {error}", file=path) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise DemoError(f"not valid YAML: {problem}", file=path, path=where) from None
    loader = _Loader(path)
    with transaction.atomic():
        return loader.load(data)


class _Loader:
    def __init__(self, file: Path) -> None:
        self.file = file
        self.seen: dict[tuple[object, ...], str] = {}

    def fail(self, where: str, message: str) -> DemoError:
        return DemoError(message, file=self.file, path=where)

    def load(self, data: Any) -> list[Campaign]:
        document = self.entry(data, "", _DOCUMENT)
        if document["version"] != FORMAT_VERSION:
            raise self.fail("version", f"this loader reads version {FORMAT_VERSION} files")
        return [self.campaign(item, where) for item, where in self.items(document, "campaigns")]

    # -- entries ----------------------------------------------------------------------------

    def campaign(self, item: Any, where: str) -> Campaign:
        data = self.entry(item, where, _CAMPAIGN)
        section = self.ref(Section, data, "section", where)
        organiser = (
            self.ref(Organisation, data, "organiser", where) if "organiser" in data else None
        )
        campaign = self.upsert(
            Campaign,
            where,
            {"slug": self.text(data, "slug", where)},
            {
                "section": section,
                "is_public": self.flag(data, "public", where),
                "organiser": organiser,
                "hide_organiser": self.flag(data, "hide_organiser", where),
                **self.translated(data, "title", where),
                **self.translated(data, "summary", where),
                "started": self.text(data, "started", where) or None,
                "ended": self.text(data, "ended", where) or None,
            },
        )
        citations = list(self.items(data, "citations", where))
        if not citations:
            raise self.fail(f"{where}.citations", "cite at least one source for the campaign")
        for cite_item, cite_where in citations:
            self.citation(campaign, cite_item, cite_where)
        for demand_item, demand_where in self.items(data, "demands", where):
            self.demand(campaign, demand_item, demand_where)
        for series_item, series_where in self.items(data, "series", where):
            self.series(campaign, series_item, series_where)
        return campaign

    def demand(self, campaign: Campaign, item: Any, where: str) -> Demand:
        data = self.entry(item, where, _DEMAND)
        kind = self.text(data, "kind", where)
        if kind not in DemandKind.values:
            raise self.fail(f"{where}.kind", f"one of {', '.join(DemandKind.values)}, not {kind!r}")
        person = self.ref(Person, data, "person", where) if "person" in data else None
        texts = self.translated(data, "text", where)
        key: dict[str, Any] = {"campaign": campaign, "kind": kind}
        if person is not None:
            key["person"] = person
        else:
            key |= {"person": None, "text_en": texts["text_en"]}
        values = {
            **texts,
            "address": self.text(data, "address", where),
            "demanded_on": self.text(data, "demanded_on", where) or None,
        }
        demand = self.upsert(Demand, where, key, values)
        if "won_by" in data:
            event = self.ref(Event, data, "won_by", where)
            if not demand.outcomes.filter(state=DemandState.WON, event=event).exists():
                try:
                    services.record_outcome(demand, DemandState.WON, event=event)
                except ValidationError as error:
                    raise self.invalid(f"{where}.won_by", error) from None
        return demand

    def series(self, campaign: Campaign, item: Any, where: str) -> ActionSeries:
        data = self.entry(item, where, _SERIES)
        return self.upsert(
            ActionSeries,
            where,
            {"slug": self.text(data, "slug", where)},
            {
                "campaign": campaign,
                "section": campaign.section,
                "is_public": self.flag(data, "public", where, default=campaign.is_public),
                **self.translated(data, "title", where),
                **self.translated(data, "summary", where),
            },
        )

    def citation(self, campaign: Campaign, item: Any, where: str) -> Citation:
        data = self.entry(item, where, _CITATION)
        reliability = self.text(data, "reliability", where, default=Reliability.UNKNOWN)
        if reliability not in Reliability.values:
            raise self.fail(
                f"{where}.reliability",
                f"one of {', '.join(Reliability.values)}, not {reliability!r}",
            )
        return self.upsert(
            Citation,
            where,
            {
                "content_type": ContentType.objects.get_for_model(Campaign),
                "object_id": campaign.pk,
                "source": self.ref(Source, data, "source", where),
            },
            {
                "reliability": reliability,
                "quote": self.text(data, "quote", where),
                "locator": self.text(data, "locator", where),
            },
        )

    # -- writing ----------------------------------------------------------------------------

    def upsert(self, model: type[M], where: str, key: dict[str, Any], values: dict[str, Any]) -> M:
        """Find the record by its natural key; create it, or save it only if the file differs."""
        marker = (model._meta.label, *sorted((k, _identity(v)) for k, v in key.items()))
        if marker in self.seen:
            raise self.fail(where, f"listed twice: the same record as {self.seen[marker]}")
        self.seen[marker] = where
        candidate = model(**(key | values))
        computed = {f.name for f in model._meta.concrete_fields if not f.editable}
        try:
            # Uniqueness is the natural key's business (the record is looked up below).
            candidate.full_clean(
                exclude=computed, validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            raise self.invalid(where, error) from None
        record = model._default_manager.filter(**key).order_by("pk").first()
        if record is None:
            candidate.save()
            return candidate
        changed = [name for name in values if _stored(candidate, name) != _stored(record, name)]
        if changed:
            for name in changed:
                attname = _concrete(record, name).attname
                setattr(record, attname, getattr(candidate, attname))
            record.save()
        return record

    def invalid(self, where: str, error: ValidationError) -> DemoError:
        if hasattr(error, "error_dict"):
            parts = [
                f"{field}: {' '.join(str(m) for m in messages)}"
                for field, messages in error.message_dict.items()
            ]
            return self.fail(where, "; ".join(parts))
        return self.fail(where, " ".join(error.messages))

    # -- reading ----------------------------------------------------------------------------

    def entry(self, item: Any, where: str, keys: tuple[set[str], set[str]]) -> Mapping[str, Any]:
        required, optional = keys
        if not isinstance(item, Mapping):
            raise self.fail(where or "top level", "expected a mapping of keys to values")
        unknown = sorted(set(item) - required - optional)
        if unknown:
            known = ", ".join(sorted(required | optional))
            raise self.fail(where, f"unknown key {unknown[0]!r} (known keys: {known})")
        missing = sorted(required - set(item))
        if missing:
            raise self.fail(where, f"missing key {missing[0]!r}")
        return item

    def items(
        self, data: Mapping[str, Any], key: str, where: str = ""
    ) -> Iterator[tuple[Any, str]]:
        path = f"{where}.{key}" if where else key
        value = data.get(key) or []
        if not isinstance(value, list):
            raise self.fail(path, "expected a list")
        for index, item in enumerate(value):
            yield item, f"{path}[{index}]"

    def text(self, data: Mapping[str, Any], key: str, where: str, default: str = "") -> str:
        value = data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            # YAML reads 2012 as a number and 2012-03-05 as a date: dates must be quoted.
            raise self.fail(f"{where}.{key}", f"expected text, not {value!r} (quote it)")
        return value.strip()

    def flag(self, data: Mapping[str, Any], key: str, where: str, default: bool = False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{where}.{key}", f"expected true or false, not {value!r}")
        return value

    def translated(self, data: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
        value = data.get(key) or {}
        if not isinstance(value, Mapping):
            raise self.fail(f"{where}.{key}", "expected a mapping of languages (en, ru, kk)")
        unknown = sorted(set(value) - set(_LANGUAGES))
        if unknown:
            raise self.fail(f"{where}.{key}", f"unknown language {unknown[0]!r} (en, ru, kk)")
        return {f"{key}_{lang}": self.text(value, lang, f"{where}.{key}") for lang in _LANGUAGES}

    def ref(self, model: type[M], data: Mapping[str, Any], key: str, where: str) -> M:
        slug = self.text(data, key, where)
        record = model._default_manager.filter(slug=slug).first() if slug else None
        if record is None:
            what = model._meta.verbose_name
            raise self.fail(
                f"{where}.{key}", f"no {what} with slug {slug!r} in the database. {_SEED_HINT}"
            )
        return record


def _identity(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def _concrete(record: models.Model, name: str) -> models.Field[Any, Any]:
    field = record._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{name} is not a concrete field")
    return field


def _stored(record: models.Model, name: str) -> Any:
    """The value as the database holds it, so that "2012" and PartialDate("2012") compare equal."""
    field = _concrete(record, name)
    return field.get_db_prep_value(getattr(record, field.attname), connection=connection)
