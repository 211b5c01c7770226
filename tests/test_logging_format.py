"""The console log: UTC timestamps with milliseconds (ASVS 16.2.2), an opt-in JSON-lines
format for a log processor (16.2.4), and unexpected errors logged with their traceback while
an SMTP failure names no recipient (16.3.4).

The records themselves carry nothing new (M19): test_public_boundary.py's canary test searches
every record of a crawl, a refused delivery and a server error.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import re
import smtplib
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from pytest_django import Settings

from solidarity import settings as solidarity_settings
from solidarity.core.logging import JsonLinesFormatter, UtcFormatter
from solidarity.safety.mail import MailNotSent

# The canary test's SMTP server, which refuses an address and echoes it in its reply.
from tests.test_public_boundary import REFUSED, refusing_mailbox  # noqa: F401

# Almaty is UTC+5 all year: a local time there can never pass for UTC.
ELSEWHERE = "Asia/Almaty"
# 2026-11-29T00:01:02.345Z, when Almaty's clocks say 05:01.
MOMENT = datetime(2026, 11, 29, 0, 1, 2, 345_000, tzinfo=UTC).timestamp()
STAMP = "2026-11-29T00:01:02.345Z"
UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _configured(name: str) -> logging.Formatter:
    """The formatter `name` exactly as settings.LOGGING describes it."""
    config = django_settings.LOGGING["formatters"][name]
    formatter: logging.Formatter = logging.config.DictConfigurator({}).configure_formatter(config)
    return formatter


def _record(message: str = "disk %s is full", *args: object) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "solidarity.test", "levelno": logging.ERROR, "levelname": "ERROR"}
    )
    record.msg, record.args, record.created = message, args, MOMENT
    return record


@pytest.fixture
def elsewhere(settings: Settings) -> Iterator[None]:
    """The process's local time zone (TZ, set by Django from TIME_ZONE) is Almaty's."""
    settings.TIME_ZONE = ELSEWHERE
    assert time.strftime("%z", time.localtime(MOMENT)) == "+0500", "the zone did not change"
    yield


# -- 16.2.2 and 16.2.4: timestamps and formats ----------------------------------------------------


@pytest.mark.usefixtures("elsewhere")
def test_the_text_format_stamps_utc_with_milliseconds() -> None:
    line = _configured("text").format(_record("disk %s is full", "/var"))
    assert line == f"{STAMP} ERROR solidarity.test disk /var is full"


@pytest.mark.usefixtures("elsewhere")
def test_the_json_format_is_one_parsable_object_a_line_in_utc() -> None:
    line = _configured("json").format(_record("disk %s is\nfull\u2028", "/var"))
    assert "\n" not in line and "\u2028" not in line
    assert json.loads(line) == {
        "time": STAMP,
        "level": "ERROR",
        "logger": "solidarity.test",
        "message": "disk /var is\nfull\u2028",
    }


def test_the_json_format_carries_the_traceback() -> None:
    try:
        raise ValueError("the exception's own text")
    except ValueError:
        record = logging.makeLogRecord({"msg": "it failed", "exc_info": sys.exc_info()})
    entry = json.loads(JsonLinesFormatter().format(record))
    assert entry["message"] == "it failed"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert entry["exception"].endswith("ValueError: the exception's own text")
    assert "test_the_json_format_carries_the_traceback" in entry["exception"]


def test_no_request_value_is_added_to_a_record() -> None:
    """A record that carries a request (as django.request's do) is written with its message
    only: neither format adds the client's address, the user or the path (M19)."""
    request = HttpRequest()
    request.path = "/cnry-path/"
    request.META["REMOTE_ADDR"] = "203.0.113.9"
    record = _record("Forbidden")
    record.request = request
    record.status_code = 403
    for formatter in (UtcFormatter(), JsonLinesFormatter()):
        line = formatter.format(record)
        assert "Forbidden" in line
        assert "cnry-path" not in line and "203.0.113.9" not in line
    assert set(json.loads(JsonLinesFormatter().format(record))) == {
        "time",
        "level",
        "logger",
        "message",
    }


def _log_from_a_fresh_process(log_format: str, debug: bool = False) -> str:
    """What `solidarity` writes to the console when it logs an error with a traceback, then a
    warning of Django's, in a process whose TZ is Almaty's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOLIDARITY_LOG")}
    env.update(SOLIDARITY_LOG_FORMAT=log_format, TZ=ELSEWHERE, SOLIDARITY_DEBUG=str(debug))
    code = (
        "import logging\n"
        "try:\n    1 / 0\n"
        "except ZeroDivisionError:\n"
        "    logging.getLogger('solidarity.test').exception('a failure')\n"
        "logging.getLogger('django.request').warning('a warning of Django')\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "solidarity", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stderr


def _near_now(stamp: str) -> bool:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return abs(datetime.now(UTC) - moment) < timedelta(minutes=2)


def test_the_console_writes_utc_text_by_default() -> None:
    """Django's records too, once each, even under DEBUG (Django's own console handler, which
    writes them without a time, is not kept)."""
    lines = _log_from_a_fresh_process("", debug=True).splitlines()
    stamp, level, logger, message = lines[0].split(" ", 3)
    assert UTC_STAMP.fullmatch(stamp) and _near_now(stamp), lines
    assert (level, logger, message) == ("ERROR", "solidarity.test", "a failure")
    assert "ZeroDivisionError: division by zero" in lines
    django_lines = [line for line in lines if "a warning of Django" in line]
    assert len(django_lines) == 1, lines
    assert django_lines[0].endswith(" WARNING django.request a warning of Django")
    assert UTC_STAMP.fullmatch(django_lines[0].split(" ")[0])


def test_the_console_writes_json_lines_on_request() -> None:
    lines = _log_from_a_fresh_process("json").splitlines()
    assert len(lines) == 2, lines  # the traceback is inside the object, not on lines of its own
    entry, django_entry = map(json.loads, lines)
    assert django_entry["logger"] == "django.request"
    assert UTC_STAMP.fullmatch(entry["time"]) and _near_now(entry["time"]), entry
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "ERROR",
        "solidarity.test",
        "a failure",
    )
    assert "ZeroDivisionError: division by zero" in entry["exception"]


def test_an_unknown_log_format_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOLIDARITY_LOG_FORMAT", "xml")
    with pytest.raises(ImproperlyConfigured, match="must be text or json, not 'xml'"):
        solidarity_settings._logging()


# -- 16.3.4: unexpected errors are logged -------------------------------------------------------


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("an unexpected failure in a view")


urlpatterns = [path("crash/", crash)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_an_unexpected_error_answers_500_and_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/crash/")
    assert response.status_code == 500
    assert b"an unexpected failure" not in response.content  # the visitor learns nothing
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    # As the console writes it, with the settings' formatter.
    entry = json.loads(_configured("json").format(record))
    assert entry["message"] == "Internal Server Error: /crash/"
    assert "RuntimeError: an unexpected failure in a view" in entry["exception"]
    assert (
        'in crash\n    raise RuntimeError("an unexpected failure in a view")'
        in (entry["exception"])
    )


@pytest.mark.usefixtures("refusing_mailbox")
def test_a_refused_delivery_raises_mail_not_sent_without_the_address(settings: Settings) -> None:
    """Through the production backend to a server that refuses the recipient and echoes the
    address in its reply: the error has the SMTP code, and neither it nor its traceback (what
    the task worker logs and stores) has the address."""
    connection = get_connection("solidarity.safety.mail.EmailBackend", fail_silently=False)
    message = EmailMessage("Subject", "Body", "from@example.org", [REFUSED], connection=connection)
    with pytest.raises(MailNotSent) as caught:
        message.send()
    error = caught.value
    assert "SMTPRecipientsRefused (SMTP 550)" in str(error)
    assert error.__cause__ is None and error.__suppress_context__
    text = "".join(traceback.format_exception(error))
    assert REFUSED not in text
    assert not isinstance(error, smtplib.SMTPException)
