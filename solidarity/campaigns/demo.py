"""The seed document's campaigns, built on the documented seed case.

Call `load_demo_campaigns()` after the seed case is loaded (`solidarity demo`). It adds only
what the seed says: Campaign Kazakhstan demanded the release of Natalya Sokolova and Bolat
Atabayev, protested outside Kazakh embassies around Europe, and both were released (the
outcomes point at the documented release events); it still demands Vadim Kuramshin's release;
ONJ ('Leave the People's Homes Alone') fought evictions and Kazakhstan 2012 demanded
democratic electoral reform. The seed gives no dates, cities or numbers for the protests, so
the event campaign has its heading and no invented local actions. Running it again changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from solidarity.core.models import Section
from solidarity.documentation.models import Event, Organisation, Person

from . import services
from .models import ActionSeries, Campaign, Demand, DemandKind, DemandState


class DemoError(Exception):
    """The documentation seed case is not loaded, so there is nothing to campaign about."""


@dataclass(frozen=True)
class _DemandSpec:
    kind: str
    text_en: str
    text_ru: str
    person: str = ""
    won_by: str = ""


@dataclass(frozen=True)
class _CampaignSpec:
    slug: str
    section: str
    organiser: str
    title_en: str
    title_ru: str
    summary_en: str
    demands: tuple[_DemandSpec, ...]
    series: dict[str, str] | None = None


_CAMPAIGNS = (
    _CampaignSpec(
        slug="campaign-kazakhstan",
        section="cwi",
        organiser="committee-for-a-workers-international",
        title_en="Campaign Kazakhstan",
        title_ru="Кампания «Казахстан»",
        summary_en=(
            "The CWI's international appeal to draw attention to the political and economic "
            "situation in Kazakhstan, for the release of jailed activists, and in support of the "
            "trade union leaders Ainur Kurmanov and Esenbek Ukteshbayev."
        ),
        demands=(
            _DemandSpec(
                DemandKind.RELEASE_PERSON,
                "Release Natalya Sokolova, legal counsel for striking oil workers",
                "Освободить Наталью Соколову, юриста бастующих нефтяников",
                person="natalya-sokolova",
                won_by="release-of-natalya-sokolova",
            ),
            _DemandSpec(
                DemandKind.RELEASE_PERSON,
                "Release Bolat Atabayev, theatre director",
                "Освободить Болата Атабаева, театрального режиссёра",
                person="bolat-atabayev",
                won_by="release-of-bolat-atabayev",
            ),
            _DemandSpec(
                DemandKind.RELEASE_PERSON,
                "Release Vadim Kuramshin, human rights activist",
                "Освободить Вадима Курамшина, правозащитника",
                person="vadim-kuramshin",
            ),
        ),
        series={
            "slug": "protests-outside-kazakh-embassies",
            "title_en": "Protest outside the Kazakh embassy",
            "title_ru": "Пикет возле посольства Казахстана",
            "summary_en": (
                "Protests outside Kazakh embassies around Europe for the release of Natalya "
                "Sokolova and Bolat Atabayev."
            ),
        },
    ),
    _CampaignSpec(
        slug="onj-leave-the-peoples-homes-alone",
        section="srk",
        organiser="socialist-resistance-of-kazakhstan",
        title_en="ONJ \N{EN DASH} Leave the People's Homes Alone",
        # The seed gives only the English name; a guessed Russian one could be wrong.
        title_ru="",
        summary_en="An anti-eviction movement.",
        demands=(_DemandSpec(DemandKind.OTHER, "Stop the evictions", "Прекратить выселения"),),
    ),
    _CampaignSpec(
        slug="kazakhstan-2012",
        section="srk",
        organiser="socialist-resistance-of-kazakhstan",
        title_en="Kazakhstan 2012",
        title_ru="Казахстан 2012",
        summary_en="A campaign for democratic electoral reform.",
        demands=(
            _DemandSpec(
                DemandKind.REFORM,
                "Democratic electoral reform",
                "Демократическая реформа избирательной системы",
            ),
        ),
    ),
)


def load_demo_campaigns() -> list[Campaign]:
    if not Person.objects.filter(slug="natalya-sokolova").exists():
        raise DemoError("Load the seed case first (solidarity demo does).")
    loaded: list[Campaign] = []
    with transaction.atomic():
        for spec in _CAMPAIGNS:
            section = Section.objects.get(slug=spec.section)
            campaign, _created = Campaign.objects.get_or_create(
                slug=spec.slug,
                defaults={
                    "section": section,
                    "is_public": True,
                    "title_en": spec.title_en,
                    "title_ru": spec.title_ru,
                    "summary_en": spec.summary_en,
                    "organiser": Organisation.objects.filter(slug=spec.organiser).first(),
                },
            )
            for wanted in spec.demands:
                _demand(campaign, wanted)
            if spec.series is not None:
                fields = {k: v for k, v in spec.series.items() if k != "slug"}
                ActionSeries.objects.get_or_create(
                    slug=spec.series["slug"],
                    defaults={
                        "section": section,
                        "is_public": True,
                        "campaign": campaign,
                        **fields,
                    },
                )
            loaded.append(campaign)
    return loaded


def _demand(campaign: Campaign, spec: _DemandSpec) -> Demand:
    person = Person.objects.get(slug=spec.person) if spec.person else None
    demand, _created = Demand.objects.get_or_create(
        campaign=campaign,
        kind=spec.kind,
        person=person,
        text_en=spec.text_en,
        defaults={"text_ru": spec.text_ru},
    )
    if spec.won_by and demand.state == DemandState.OPEN:
        services.record_outcome(demand, DemandState.WON, event=Event.objects.get(slug=spec.won_by))
    return demand
