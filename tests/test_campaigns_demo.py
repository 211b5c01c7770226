"""The demo's campaigns: loaded from their data file onto the seed case, with the two releases
as won demands; and the demo server, whose worker writes confirmation e-mails to DATA_DIR/mail."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils import translation

from solidarity.campaigns.demo import DEMO_CAMPAIGNS, DemoError, load_demo_campaigns
from solidarity.campaigns.models import ActionSeries, Campaign, Demand, DemandState, Outcome
from solidarity.documentation.models import Citation
from solidarity.documentation.seed import SEED_CASE, load_case


@pytest.fixture
def seeded(db: None) -> None:
    load_case(SEED_CASE)


def _snapshot() -> dict[str, list[Any]]:
    """Every row the loader writes, as stored."""
    campaign_type = ContentType.objects.get_for_model(Campaign)
    return {
        "campaigns": list(Campaign.objects.order_by("pk").values_list()),
        "demands": list(Demand.objects.order_by("pk").values_list()),
        "outcomes": list(Outcome.objects.order_by("pk").values_list()),
        "series": list(ActionSeries.objects.order_by("pk").values_list()),
        "citations": list(
            Citation.objects.filter(content_type=campaign_type)
            .order_by("pk")
            .values_list("pk", "object_id", "source_id", "reliability", "quote", "locator")
        ),
    }


def test_campaign_kazakhstan_is_shown_as_won_for_both_released_prisoners(
    seeded: None, client: Client
) -> None:
    """Sokolova's and Atabayev's demands are won by their release events; the others are open."""
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
        "ainur-kurmanov": DemandState.OPEN,
        "esenbek-ukteshbayev": DemandState.OPEN,
    }
    assert set(Outcome.objects.values_list("event__slug", flat=True)) == {
        "release-of-natalya-sokolova",
        "release-of-bolat-atabayev",
    }
    with translation.override("en"):
        url = reverse("campaigns:campaign", args=["campaign-kazakhstan"])
        event_url = reverse("public:event", args=["release-of-bolat-atabayev"])
    page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    assert text.count("won before 16 September 2016") == 2
    assert event_url in text


def test_every_demo_campaign_cites_its_source(seeded: None) -> None:
    """Each campaign cites the seed article; Campaign Kazakhstan also its own website."""
    load_demo_campaigns()
    campaign_type = ContentType.objects.get_for_model(Campaign)
    cited = {
        campaign.slug: set(
            Citation.objects.filter(content_type=campaign_type, object_id=campaign.pk).values_list(
                "source__slug", flat=True
            )
        )
        for campaign in Campaign.objects.all()
    }
    assert cited == {
        "campaign-kazakhstan": {"wikipedia-srk-2016", "campaign-kazakhstan-website"},
        "onj-leave-the-peoples-homes-alone": {"wikipedia-srk-2016"},
        "kazakhstan-2012": {"wikipedia-srk-2016"},
    }


def test_loading_the_demo_campaigns_twice_leaves_the_database_identical(seeded: None) -> None:
    """The second load writes nothing: every row, timestamps and keys included, is unchanged."""
    load_demo_campaigns()
    first = _snapshot()
    load_demo_campaigns()
    assert _snapshot() == first
    counts = tuple(len(first[k]) for k in ("campaigns", "demands", "outcomes", "series"))
    assert counts == (3, 7, 2, 1)


def test_an_edited_file_corrects_the_database_in_place(seeded: None, tmp_path: Path) -> None:
    """Changing a summary in the file and loading again updates that campaign, adding nothing."""
    load_demo_campaigns()
    edited = tmp_path / "campaigns.yaml"
    edited.write_text(
        DEMO_CAMPAIGNS.read_text(encoding="utf-8").replace(
            "en: A campaign for democratic electoral reform.",
            "en: A campaign for democratic reform of elections.",
        ),
        encoding="utf-8",
    )
    load_demo_campaigns(edited)
    assert Campaign.objects.count() == 3
    reform = Campaign.objects.get(slug="kazakhstan-2012")
    assert reform.summary_en == "A campaign for democratic reform of elections."


def _broken_file(tmp_path: Path, old: str, new: str) -> Path:
    text = DEMO_CAMPAIGNS.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "campaigns.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_won_demand_needs_an_event_concerning_the_person(seeded: None, tmp_path: Path) -> None:
    """Winning Sokolova's demand with Atabayev's release is refused, naming the path in the
    file, and nothing from the file is written."""
    path = _broken_file(
        tmp_path, "won_by: release-of-natalya-sokolova", "won_by: release-of-bolat-atabayev"
    )
    with pytest.raises(DemoError) as caught:
        load_demo_campaigns(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: campaigns[0].demands[1].won_by: ")
    assert "does not concern Natalya Sokolova" in message
    assert Campaign.objects.count() == 0
    assert Demand.objects.count() == 0


@pytest.mark.parametrize(
    ("old", "new", "where", "says"),
    [
        ('started: "../2012-03-05"', "started: 2012", "campaigns[0].started", "quote it"),
        ("person: vadim-kuramshin", "person: vadim", "campaigns[0].demands[0].person", "slug"),
        ("kind: reform", "kind: revolution", "campaigns[2].demands[0].kind", "revolution"),
        ("  - slug: kazakhstan-2012\n", "  - slogan: x\n", "campaigns[2]", "unknown key"),
        ("reliability: partisan", "reliability: gossip", "citations[1].reliability", "gossip"),
    ],
)
def test_mistakes_in_the_file_are_named_by_their_path(
    seeded: None, tmp_path: Path, old: str, new: str, where: str, says: str
) -> None:
    """A bad value stops the whole load with the path to it and what is wrong."""
    path = _broken_file(tmp_path, old, new)
    with pytest.raises(DemoError, match=re.escape(where)) as caught:
        load_demo_campaigns(path)
    assert says in str(caught.value)
    assert Campaign.objects.count() == 0


def test_the_demo_campaigns_need_the_seed_case(db: None) -> None:
    """Without the documented case there is nothing to campaign about, and it says so."""
    with pytest.raises(DemoError, match="Load the seed case first"):
        load_demo_campaigns()


# -- The demo server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(url: str, server: subprocess.Popen[str], deadline: float) -> None:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - our own http URL
                return
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_demo_server_writes_confirmation_emails_to_the_mail_directory(
    tmp_path: Path,
) -> None:
    """Without an SMTP server, `solidarity serve` says where e-mails go; a signature made on
    the demo's petition page gets its confirmation link as a file there, written by the
    worker that serve started and stopped."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SOLIDARITY_EMAIL", "DATABASE_URL"))
    }
    env |= {
        "SOLIDARITY_DATA_DIR": str(tmp_path),
        "SOLIDARITY_SECRET_KEY": secrets.token_urlsafe(50),
        "PYTHONUNBUFFERED": "1",
        # The form is sent at once; its stamp must still be genuine (campaigns/human_timing.py).
        "SOLIDARITY_FORM_MIN_SECONDS": "0",
    }
    solidarity = [sys.executable, "-m", "solidarity"]
    subprocess.run([*solidarity, "demo", "-v", "0"], env=env, check=True, capture_output=True)
    petition = tmp_path / "petition.py"
    petition.write_text(
        "from solidarity.campaigns.models import Campaign, Petition\n"
        "c = Campaign.objects.get(slug='campaign-kazakhstan')\n"
        "Petition.objects.create(section=c.section, is_public=True, campaign=c,\n"
        "    slug='free-kuramshin', title_en='Free Vadim Kuramshin', text_en='Release him.')\n",
        encoding="utf-8",
    )
    subprocess.run(
        [*solidarity, "shell", "-c", petition.read_text(encoding="utf-8")], env=env, check=True
    )
    port = _free_port()
    server = subprocess.Popen(
        [*solidarity, "serve", "--port", str(port), "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    mail = tmp_path / "mail"
    try:
        _wait_for(f"{base}/", server, time.monotonic() + 30)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with translation.override("en"):
            form_url = base + reverse("campaigns:petition", args=["free-kuramshin"])
        with opener.open(form_url, timeout=10) as response:
            html = response.read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert token is not None
        served = re.search(r'name="served" value="([^"]+)"', html)
        assert served is not None
        fields = {
            "csrfmiddlewaretoken": token.group(1),
            "served": served.group(1),
            "name": "Anna Demo",
            "email": "anna@example.org",
            "country": "Germany",
            "language": "en",
            "processing_consent": "on",
        }
        request = urllib.request.Request(  # noqa: S310 - our own http URL
            form_url,
            data=urllib.parse.urlencode(fields).encode(),
            headers={"Referer": form_url},
        )
        with opener.open(request, timeout=10) as response:
            assert "/thanks/" in response.url
        deadline = time.monotonic() + 30
        while not (mail.is_dir() and any(mail.iterdir())) and time.monotonic() < deadline:
            time.sleep(0.2)
        messages = [p.read_text(encoding="utf-8") for p in mail.iterdir()]
    finally:
        server.terminate()
        out, err = server.communicate(timeout=20)
    assert f"written as files to {mail}/" in out, err
    worker = re.search(r"Background worker started \(solidarity db_worker, pid (\d+)\)", out)
    assert worker is not None
    assert not Path(f"/proc/{worker.group(1)}").exists(), "the worker outlived the server"
    assert out.rstrip().endswith("Stopped.")
    assert len(messages) == 1
    assert "To: anna@example.org" in messages[0]
    assert f"{base}/" in messages[0] and "/petitions/confirm/" in messages[0]
