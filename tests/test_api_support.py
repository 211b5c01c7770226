"""Fixtures shared by the API tests: a small campaign world with supporters, signatures and
RSVPs made through the campaign services, and tokens. (No tests here; the test_ prefix keeps
the module beside the tests that import it.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from solidarity.api.scopes import SCOPES, permission_for
from solidarity.api.tokens import create_token
from solidarity.campaigns import services
from solidarity.campaigns.models import (
    Action,
    ActionKind,
    Campaign,
    Petition,
    Rsvp,
    Signature,
    email_index,
)
from solidarity.campaigns.services import SupporterDetails
from solidarity.core.models import Section
from solidarity.documentation.models import Place
from solidarity.safety.models import Role

BASE = "http://testserver"
ALL_SCOPES = tuple(SCOPES)


@dataclass
class CampaignWorld:
    campaign: Campaign
    petition: Petition
    closed_petition: Petition
    london: Place
    protest: Action


def make_campaign_world(section: Section) -> CampaignWorld:
    campaign = Campaign.objects.create(
        section=section, is_public=True, slug="free-sokolova", title_en="Free Natalya Sokolova"
    )
    petition = Petition.objects.create(
        section=section,
        is_public=True,
        campaign=campaign,
        slug="release-sokolova",
        title_en="Release Natalya Sokolova",
        title_ru="Освободите Наталью Соколову",
        text_en="We call on the authorities of Kazakhstan to release Natalya Sokolova.",
    )
    closed = Petition.objects.create(
        section=section,
        is_public=True,
        campaign=campaign,
        slug="delivered",
        title_en="A delivered petition",
        text_en="Delivered in 2012.",
        accepting=False,
    )
    london = Place.objects.create(
        section=section,
        is_public=True,
        slug="london",
        name_en="London",
        kind="city",
        country_code="GB",
    )
    protest = Action.objects.create(
        section=section,
        is_public=True,
        campaign=campaign,
        kind=ActionKind.PROTEST,
        title_en="Protest outside the Kazakh embassy",
        place=london,
        address="125 Pall Mall",
        starts_at=timezone.now() + dt.timedelta(days=10),
    )
    return CampaignWorld(campaign, petition, closed, london, protest)


def sign(world: CampaignWorld, email: str, name: str = "Anna Berg", **kwargs: Any) -> Signature:
    services.sign_petition(
        world.petition,
        SupporterDetails(email=email, name=name, country="Germany", language="en"),
        processing_consent=True,
        base_url=BASE,
        **kwargs,
    )
    return Signature.objects.get(
        petition=world.petition, supporter__email_index=email_index(email.lower())
    )


def attend(world: CampaignWorld, email: str, name: str = "Anna Berg") -> Rsvp:
    return services.rsvp(
        world.protest,
        SupporterDetails(email=email, name=name, country="Germany", language="en"),
        processing_consent=True,
    )


def user_with_scopes(username: str, *scopes: str) -> User:
    user = User.objects.create_user(username, password="a long test password", is_staff=True)
    codenames = [permission_for(scope).split(".")[1] for scope in scopes]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)  # fresh: permissions are cached per instance


def token_for(user: User, *scopes: str) -> str:
    return create_token(user, "test token", scopes)[1]


def api(token: str) -> Client:
    return Client(headers={"OSDI-API-Token": token})


def organiser_token() -> str:
    """A token with every scope, for a user with every permission behind them and the section
    organiser's role in every section there is (a token reads only its user's sections)."""
    user = user_with_scopes("organiser", *ALL_SCOPES)
    for section in Section.objects.all():
        Role.objects.create(user=user, section=section, role="section_organiser")
    return token_for(user, *ALL_SCOPES)
