"""Concurrent signatures on SQLite share commits (solidarity.campaigns.groupcommit): each caller
returns only once its own write is committed, and one failing write harms no other."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from solidarity.campaigns import groupcommit, services
from solidarity.campaigns.models import Signature, Supporter, email_index
from solidarity.campaigns.services import SignResult, SupporterDetails
from solidarity.core.models import Section
from tests.test_campaigns_support import World, make_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(section: Section) -> World:
    return make_world(section)


def _in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in `count` threads released together; results (or exceptions) by i."""
    results: list[object] = [None] * count
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # the test inspects it
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _sign(world: World, email: str) -> SignResult:
    return services.sign_petition(
        world.petition,
        SupporterDetails(email=email, name="Anna Berg"),
        processing_consent=True,
        base_url="http://127.0.0.1:8000",
    )


def test_every_concurrent_signature_is_stored(world: World) -> None:
    """Eight threads sign at once, five times each: forty answers, forty stored signatures,
    and the same address signing twice at once still signs once."""

    # (That each is committed before its caller returns is what bench/crash_test.py shows: the
    # test database is SQLite in memory, where a read beside a write fails instead of waiting.)
    def five(i: int) -> list[SignResult]:
        return [_sign(world, f"signer{i}-{n}@example.org") for n in range(5)]

    results = _in_threads(8, five)
    assert [r for r in results if r != [SignResult.SIGNED] * 5] == []
    assert Signature.objects.count() == 40

    twice = _in_threads(2, lambda i: _sign(world, "same@example.org"))
    assert sorted(str(r) for r in twice) == [SignResult.PENDING_AGAIN, SignResult.SIGNED]
    assert (
        Signature.objects.filter(supporter__email_index=email_index("same@example.org")).count()
        == 1
    )
    assert Supporter.objects.filter(email_index=email_index("same@example.org")).count() == 1


def test_a_failing_write_is_rolled_back_alone_and_raised_to_its_caller(world: World) -> None:
    """Among writes committed together, the one that raises leaves nothing behind and gets its
    exception; the others are stored."""

    def work(i: int) -> object:
        if i == 3:

            def broken() -> None:
                Supporter.objects.create(email="broken@example.org", name="Half written")
                raise ValueError("the write failed half-way")

            return groupcommit.write(broken)
        return _sign(world, f"ok{i}@example.org")

    results = _in_threads(6, work)
    assert isinstance(results[3], ValueError)
    assert [r for i, r in enumerate(results) if i != 3] == [SignResult.SIGNED] * 5
    assert not Supporter.objects.filter(email_index=email_index("broken@example.org")).exists()
    assert Signature.objects.count() == 5


def test_each_write_is_audited_under_its_own_callers_name(world: World) -> None:
    """A write committed by another thread's leader is still logged as its caller's: the audit
    log must never name the wrong person as the author of a change."""
    from solidarity.audit.context import acting_as
    from solidarity.audit.models import AuditEntry
    from solidarity.audit.services import model_label

    def work(i: int) -> object:
        with acting_as(f"system:tester-{i}"):
            return groupcommit.write(
                lambda: (
                    Section.objects.create(
                        slug=f"grouped-{i}", name_en=f"Grouped {i}", kind="national"
                    ).pk
                )
            )

    results = _in_threads(6, work)
    for i, pk in enumerate(results):
        assert isinstance(pk, int), pk
        # The section's own entry: the world's other rows share primary keys with it.
        entries = AuditEntry.objects.filter(
            model=model_label(Section), object_pk=str(pk), action="create"
        )
        actors = set(entries.values_list("actor", flat=True))
        assert actors == {f"system:tester-{i}"}, (i, actors)
