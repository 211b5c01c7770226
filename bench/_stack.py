"""The real server stack for the signing benchmark and the crash test, on loopback only.

A throwaway data directory with the real settings (SQLite in WAL mode, synchronous=FULL), a
migrated database with one public petition, and `solidarity serve` (cheroot) in its own
process. Each benchmark client is one thread with one keep-alive HTTP/1.1 connection
(http.client), like a browser tab.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PETITION_SLUG = "bench-petition"
SOLIDARITY = [sys.executable, "-m", "solidarity"]
_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
# The stamp of when the form was served (solidarity/campaigns/human_timing.py).
_SERVED = re.compile(rb'name="served" value="([^"]+)"')

# The keyring (keys of the encrypted supporter addresses) is made here, once: the server
# would otherwise make it on its first signature, from many threads at once.
_SETUP = f"""
from solidarity.safety.crypto import load_keyring
load_keyring()
from solidarity.core.models import Section
from solidarity.campaigns.models import Campaign, Petition
section = Section.objects.create(slug="bench", name_en="Bench section", kind="home")
campaign = Campaign.objects.create(
    section=section, is_public=True, slug="bench-campaign", title_en="Bench campaign")
Petition.objects.create(
    section=section, is_public=True, campaign=campaign, slug="{PETITION_SLUG}",
    title_en="Free the bench prisoners", text_en="We call for their release.", goal=100000)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def environment(data_dir: Path) -> dict[str, str]:
    """The real settings, in `data_dir`, whatever the caller's environment says."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SOLIDARITY_", "DATABASE_URL", "DJANGO_"))
    }
    env |= {
        "SOLIDARITY_DATA_DIR": str(data_dir),
        "SOLIDARITY_SECRET_KEY": secrets.token_urlsafe(50),
        # Routes the bare baseline view (bench/bare_view.py).
        "SOLIDARITY_BENCH": "1",
        # Every simulated supporter comes from its own address, so the per-client limit on
        # signing is counted on every request (its cost is in the figures) but never refuses.
        "SOLIDARITY_CLIENT_IP_HEADER": "HTTP_X_BENCH_CLIENT",
        # Simulated supporters send the form at once: its stamp is still made and checked
        # (that cost is in the figures), only the wait of a person typing is not asked for.
        "SOLIDARITY_FORM_MIN_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    return env


def prepare(data_dir: Path) -> dict[str, str]:
    """Migrate a fresh database in `data_dir` and create the public petition."""
    env = environment(data_dir)
    subprocess.run([*SOLIDARITY, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*SOLIDARITY, "shell", "-c", _SETUP], env=env, check=True, cwd=ROOT)
    return env


def petition_path(env: dict[str, str]) -> str:
    """The petition's address as the app reverses it, in English: /en/petitions/<slug>/.

    Asked of the app rather than written here, so that the benchmark follows the routes; the
    address without a language would only answer with a redirect.
    """
    script = (
        "from django.urls import reverse; from django.utils import translation\n"
        "with translation.override('en'):\n"
        f"    print(reverse('campaigns:petition', args=['{PETITION_SLUG}']))"
    )
    out = subprocess.run(
        [*SOLIDARITY, "shell", "-c", script],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def start_server(env: dict[str, str], port: int, threads: int) -> subprocess.Popen[bytes]:
    """`solidarity serve` without its e-mail worker (the worker's work is not what is timed).

    The server keeps 100 idle keep-alive connections by default and closes the others after
    their answer; the limit is raised so that 200 clients keep 200 open connections, as a
    proxy in front would.
    """
    command = ["serve", "--port", str(port), "--threads", str(threads), "--no-worker"]
    server = subprocess.Popen(
        [*SOLIDARITY, *command, "--connection-limit", "400"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.05)


# Addresses and names are stored encrypted: signatures are read back through the app (which
# has the keyring in the data directory) and recognised by the name they were signed with.
_NAME_PREFIX = "Bench supporter "
_READ_NAMES = (
    "from solidarity.campaigns.models import Signature\n"
    "for s in Signature.objects.select_related('supporter').exclude(supporter=None):\n"
    "    print('NAME', s.supporter.name)"
)


_RECORD = (
    "import time\n"
    "from solidarity.campaigns import intake\n"
    "wall, cpu = time.perf_counter(), time.process_time()\n"
    "n = intake.record()\n"
    "print('RECORDED', n, time.perf_counter() - wall, time.process_time() - cpu)"
)


@dataclass(frozen=True)
class Recording:
    """What the worker's step of signing cost: received signatures made into signatures."""

    signatures: int
    seconds: float
    cpu_seconds: float

    def __str__(self) -> str:
        if not self.signatures:
            return "no received signatures were waiting"
        rate = self.signatures / self.seconds
        cpu_ms = self.cpu_seconds / self.signatures * 1000
        return (
            f"{self.signatures} received signatures recorded in {self.seconds:.1f} s "
            f"({rate:.0f}/s, {cpu_ms:.2f} ms of CPU each)"
        )


def record_received(data_dir: Path) -> Recording:
    """Do what the server's worker does with signatures the public form received, and time it.

    The form's POST stores a received signature and answers; the worker makes it a supporter
    and a signature afterwards (solidarity/campaigns/intake.py). The benchmark's server runs
    without its worker, so this step is timed on its own here.
    """
    output = _shell(data_dir, _RECORD)
    line = next(line for line in output.splitlines() if line.startswith("RECORDED "))
    _, count, wall, cpu = line.split()
    return Recording(int(count), float(wall), float(cpu))


def signatures_in_database(data_dir: Path) -> set[str]:
    """The e-mail address of every stored signature, as the app reads it from the database.

    Received signatures not yet recorded are not among them: call `record_received` first.
    """
    output = _shell(data_dir, _READ_NAMES)
    names = [line[5:] for line in output.splitlines() if line.startswith("NAME ")]
    return {name.removeprefix(_NAME_PREFIX) for name in names}


def _shell(data_dir: Path, code: str) -> str:
    """What `code` prints when run by `solidarity shell` on the data directory."""
    out = subprocess.run(
        [*SOLIDARITY, "shell", "-c", code],
        env=environment(data_dir),
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return out.stdout


@dataclass
class Browser:
    """One supporter's browser tab: a keep-alive connection and its cookies."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None, client: str = ""
    ) -> tuple[int, bytes]:
        headers = {"X-Bench-Client": client} if client else {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = urlencode(body).encode() if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.connection is None:
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.headers.get("Connection", "").lower() == "close":
            self.close()
        return response.status, content

    def form_token(self, path: str) -> str:
        return self.form(path)[0]

    def form(self, path: str) -> tuple[str, str]:
        """The CSRF token and the served-at stamp of the form on the page at `path`."""
        status, content = self.request("GET", path)
        token, served = _TOKEN.search(content), _SERVED.search(content)
        if status != 200 or token is None:
            raise RuntimeError(f"GET {path} answered {status} without a form")
        return token.group(1).decode(), served.group(1).decode() if served else ""

    def sign(self, path: str, email: str, client: str) -> int:
        """Open the petition, fill in the form, submit; the answer's status (302 = thank you)."""
        token, served = self.form(path)
        fields = {
            "csrfmiddlewaretoken": token,
            "served": served,
            "name": _NAME_PREFIX + email,
            "email": email,
            "country": "Germany",
            "language": "en",
            "comment": "",
            "processing_consent": "on",
        }
        status, _content = self.request("POST", path, fields, client=client)
        return status

    def bare(self, path: str) -> int:
        """The baseline round: GET a CSRF token, POST it back."""
        token = self.form_token(path)
        status, _content = self.request("POST", path, {"csrfmiddlewaretoken": token})
        return status

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
