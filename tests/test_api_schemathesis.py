"""The API fuzzed from its own OpenAPI schema: no request schemathesis generates from the
schema gets a server error, and every answer matches what the schema promises (status,
content type, body).

Each operation is driven by Hypothesis with schemathesis's strategy for it, half the time with
the ids of real records so that the answers are not all 404s. Bounded to stay well under a
minute: a few examples per operation, derandomized so that CI runs the same cases each time.
(schemathesis's pytest plugin is not used: 4.32 reads a private attribute that pytest 9
removed.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from solidarity.campaigns.models import Rsvp, Signature
from solidarity.core.models import Section
from solidarity.wsgi import application
from tests.test_api_support import CampaignWorld, attend, make_campaign_world, organiser_token
from tests.test_api_support import sign as sign_petition

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def world(section: Section) -> Iterator[CampaignWorld]:
    world = make_campaign_world(section)
    sign_petition(world, "anna@example.org")
    attend(world, "anna@example.org")
    # Django's own test client keeps the connection open between requests; the WSGI client
    # schemathesis uses does not, and closing it would drop the test database's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    # The fuzzing sends far more requests with one token than the API's rate allows; the
    # limits themselves are tested in test_s3_limits.py.
    with override_settings(
        SOLIDARITY_API_TOKEN_RATE="100000/minute",
        SOLIDARITY_API_CLIENT_RATE="100000/minute",
        SOLIDARITY_EXPORT_RATE="100000/600",
    ):
        yield world
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def real_ids(path: str, world: CampaignWorld) -> dict[str, int]:
    signature = Signature.objects.get()
    rsvp = Rsvp.objects.get()
    if path.startswith("/api/v2/petitions/"):
        return {"id": world.petition.pk, "signature_pk": signature.pk}
    if path.startswith("/api/v2/events/"):
        return {"id": world.protest.pk, "attendance_pk": rsvp.pk}
    assert signature.supporter_id is not None
    return {"id": signature.supporter_id}


def test_the_api_keeps_its_schema(world: CampaignWorld) -> None:
    """No 5xx, and answers as documented, for requests generated to every operation."""
    token = organiser_token()
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    assert len(operations) >= 20
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        real = {k: v for k, v in real_ids(operation.path, world).items() if k in names}
        strategy = operation.as_strategy()
        if real:
            strategy = st.one_of(strategy, operation.as_strategy(path_parameters=real))

        @given(case=strategy)
        @settings(
            max_examples=6,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            response = case.call(headers={"OSDI-API-Token": token})
            case.validate_response(response, checks=CHECKS)

        exercise()
