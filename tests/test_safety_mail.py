"""SMTP failures name no recipient: what the task worker logs and stores of a failed delivery
cannot carry a supporter's address (the canary crawl in test_public_boundary.py sends real
mail to a refusing server; these pin the pieces)."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys

import pytest

from solidarity.safety.mail import describe

ADDRESS = "anna@example.org"


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPRecipientsRefused({ADDRESS: (550, f"5.1.1 <{ADDRESS}>: unknown".encode())}),
        smtplib.SMTPDataError(554, f"rejected for <{ADDRESS}>".encode()),
        smtplib.SMTPSenderRefused(553, b"no", ADDRESS),
        smtplib.SMTPServerDisconnected(f"lost while sending to {ADDRESS}"),
    ],
    ids=["recipients-refused", "data-error", "sender-refused", "disconnected"],
)
def test_an_smtp_error_is_described_without_the_address(error: smtplib.SMTPException) -> None:
    """Kind and reply codes only; the address the server echoed is gone."""
    text = describe(error)
    assert ADDRESS not in text
    assert type(error).__name__ in text
    code = getattr(error, "smtp_code", None)
    if code is not None:
        assert str(code) in text


def test_production_mail_goes_through_the_scrubbing_backend() -> None:
    """With an SMTP server configured, the settings choose the backend that scrubs errors."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOLIDARITY_EMAIL")}
    env["SOLIDARITY_EMAIL_HOST"] = "mail.example.org"
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    result = subprocess.run(
        [sys.executable, "-m", "solidarity", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "solidarity.safety.mail.EmailBackend"
