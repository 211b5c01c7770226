"""The demo's campaigns: built on the seed case, with the two releases as won demands."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from solidarity.campaigns.demo import DemoError, load_demo_campaigns
from solidarity.campaigns.models import Campaign, Demand, DemandState, Outcome
from solidarity.documentation.seed import SEED_CASE, load_case


@pytest.fixture
def seeded(db: None) -> None:
    load_case(SEED_CASE)


def test_campaign_kazakhstan_is_shown_as_won_for_both_released_prisoners(
    seeded: None, client: Client
) -> None:
    """Sokolova's and Atabayev's demands are won by their release events; Kuramshin's is open."""
    load_demo_campaigns()
    states = dict(
        Demand.objects.filter(campaign__slug="campaign-kazakhstan").values_list(
            "person__slug", "state"
        )
    )
    assert states == {
        "natalya-sokolova": DemandState.WON,
        "bolat-atabayev": DemandState.WON,
        "vadim-kuramshin": DemandState.OPEN,
    }
    assert set(Outcome.objects.values_list("event__slug", flat=True)) == {
        "release-of-natalya-sokolova",
        "release-of-bolat-atabayev",
    }
    page = client.get(reverse("campaigns:campaign", args=["campaign-kazakhstan"]))
    text = page.content.decode()
    assert page.status_code == 200
    assert text.count("won before 16 September 2016") == 2
    assert reverse("public:event", args=["release-of-bolat-atabayev"]) in text


def test_the_demo_campaigns_load_once(seeded: None) -> None:
    """Loading again changes nothing: no second campaign, demand or outcome."""
    load_demo_campaigns()
    counts = (Campaign.objects.count(), Demand.objects.count(), Outcome.objects.count())
    load_demo_campaigns()
    assert (Campaign.objects.count(), Demand.objects.count(), Outcome.objects.count()) == counts
    assert counts == (3, 5, 2)


def test_the_demo_campaigns_need_the_seed_case(db: None) -> None:
    """Without the documented case there is nothing to campaign about, and it says so."""
    with pytest.raises(DemoError, match="Load the seed case first"):
        load_demo_campaigns()
