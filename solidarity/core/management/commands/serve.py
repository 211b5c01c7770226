"""`solidarity serve`: run Solidarity under cheroot, a production WSGI server.

Static files are served by WhiteNoise (configured in settings), and the background worker that
sends e-mail (`solidarity db_worker`) runs as a child process, so nothing else is needed.

Why cheroot (CherryPy's server) and not waitress, which served until November 2026: under 50
signing supporters waitress spent 6.5 ms of CPU per signing (its loop walks every open
connection on every wake-up, a third of the server's time) against 3.7-4.3 ms under cheroot or
gunicorn, for the same application (bench/README.md, "Public signing"). cheroot runs in this
process with a thread pool, as waitress did, so group commit, the worker child and a SIGKILL
behave as before; gunicorn forks its workers and would not.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import signal
import subprocess
import sys
import threading
from argparse import ArgumentParser
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Command(BaseCommand):
    help = (
        "Serve Solidarity with cheroot on 127.0.0.1:8000 (static files through WhiteNoise). "
        "Listening on any other address needs --public."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
        parser.add_argument("--port", type=int, default=8000, help="default: 8000")
        parser.add_argument("--threads", type=int, default=8, help="worker threads (default: 8)")
        parser.add_argument(
            "--connection-limit",
            type=int,
            default=100,
            help="idle keep-alive connections kept open; more are closed after their answer "
            "(default: 100)",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start the background worker (run `solidarity db_worker` yourself)",
        )
        parser.add_argument(
            "--public",
            action="store_true",
            help="allow listening on an address other machines can reach",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        threads: int = options["threads"]
        # Threat: the demo creates a superuser whose password sits in a file, and the server
        # speaks plain HTTP. Bound to a network address by mistake, that login page (and the
        # password typed into it) is open to everyone on the network.
        if not is_loopback(host) and not options["public"]:
            raise CommandError(
                f"Refusing to listen on {host}: other machines could reach it, and the demo's "
                "admin account would be exposed over plain HTTP. Use the default 127.0.0.1, or "
                "pass --public if you mean it (then set a strong admin password, put HTTPS in "
                "front, and add the name to SOLIDARITY_ALLOWED_HOSTS)."
            )
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}.")
        if threads < 1:
            raise CommandError(f"--threads must be at least 1, not {threads}.")
        if options["connection_limit"] < 1:
            raise CommandError("--connection-limit must be at least 1.")

        from cheroot import wsgi

        # WhiteNoise warns on every start when STATIC_ROOT is missing, which it is until
        # collectstatic runs; the files themselves come from the app directories (finders).
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

        from solidarity.wsgi import application

        server = wsgi.Server(
            (host, port),
            application,
            numthreads=threads,
            server_name="Solidarity",
            # The kernel's queue of connections not yet accepted (a burst of supporters).
            request_queue_size=1024,
        )
        server.keep_alive_conn_limit = options["connection_limit"]
        # Bounds before Django reads anything: headers as large as waitress allowed, bodies the
        # largest upload (a source file) plus its form.
        server.max_request_header_size = 256 * 1024
        server.max_request_body_size = settings.SOLIDARITY_UPLOAD_MAX_BYTES + 1024 * 1024
        try:
            server.prepare()  # binds and listens
        except OSError as error:
            reason = error.strerror or error
            raise CommandError(f"Cannot listen on {host}:{port}: {reason}") from error
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}/"
        if options["public"] and not is_loopback(host):
            self.stderr.write(
                self.style.WARNING(
                    f"Listening on {host}, reachable from the network. Allowed host names: "
                    f"{', '.join(settings.ALLOWED_HOSTS)} (SOLIDARITY_ALLOWED_HOSTS)."
                )
            )
        self.stdout.write(f"Solidarity is running at {url}")
        self.stdout.write(f"Back office: {url}admin/")
        worker = None if options["no_worker"] else Worker(self.stderr)
        if worker is None:
            self.stdout.write(
                "Background worker not started (--no-worker): e-mail waits in the queue until "
                "`solidarity db_worker` runs."
            )
        else:
            schedule_purge(self.stderr)
            schedule_witnesses(self.stderr)
            worker.start()
            self.stdout.write(
                f"Background worker started (solidarity db_worker, pid {worker.pid}): it sends "
                "the e-mail and runs the retention purge, and stops with the server."
            )
        if settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
            self.stdout.write(
                f"No SMTP server is configured: e-mails (e.g. signature confirmations) are "
                f"written as files to {settings.EMAIL_FILE_PATH}/. Set SOLIDARITY_EMAIL_HOST "
                "to send them."
            )
        self.stdout.write("Press Ctrl+C to stop.")
        # SIGTERM (from a service manager or `kill`) must end the server as Ctrl+C does, so
        # that the worker is stopped with it instead of being left running alone.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            # Ctrl+C (and so SIGTERM) arrives as KeyboardInterrupt in this thread's loop.
            with contextlib.suppress(KeyboardInterrupt):
                server.serve()
        finally:
            server.stop()
            if worker is not None:
                worker.stop()
        self.stdout.write("Stopped.")


def schedule_purge(stderr: TextIO | Any) -> None:
    """Queue the periodic retention purge for the worker (solidarity/core/tasks.py)."""
    from django.db import DatabaseError

    from solidarity.core.tasks import ensure_scheduled

    try:
        ensure_scheduled()
    except DatabaseError as error:  # not migrated yet: the next start will queue it
        stderr.write(f"The retention purge is not scheduled: {error}")


def schedule_witnesses(stderr: TextIO | Any) -> None:
    """Queue the daily mail of the audit chain's head to SOLIDARITY_AUDIT_WITNESSES, if any
    (solidarity/audit/tasks.py)."""
    from django.db import DatabaseError

    from solidarity.audit.tasks import ensure_scheduled

    try:
        ensure_scheduled()
    except DatabaseError as error:  # not migrated yet: the next start will queue it
        stderr.write(f"The audit witnesses' mail is not scheduled: {error}")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class Worker:
    """`solidarity db_worker` as a child process, restarted if it dies, stopped with us."""

    RESTART_DELAY = 5.0

    def __init__(self, stderr: TextIO | Any) -> None:
        self.stderr = stderr
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def start(self) -> None:
        self._spawn()
        atexit.register(self.stop)
        threading.Thread(target=self._watch, name="worker-watch", daemon=True).start()

    def _spawn(self) -> None:
        with self.lock:
            if not self.stopping.is_set():
                command = [sys.executable, "-m", "solidarity", "db_worker", "--no-reload"]
                # Its own process group: Ctrl+C in the terminal reaches only us, and we stop it.
                self.process = subprocess.Popen(command, process_group=0)  # noqa: S603 - our own command

    def _watch(self) -> None:
        while not self.stopping.is_set():
            process = self.process
            if process is None:
                return
            code = process.wait()
            if self.stopping.is_set():
                return
            # E.g. the database was not migrated yet when it started: try again shortly.
            self.stderr.write(
                f"The background worker exited (code {code}); restarting it in "
                f"{self.RESTART_DELAY:.0f} s."
            )
            if self.stopping.wait(self.RESTART_DELAY):
                return
            self._spawn()

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        # SIGTERM lets the worker finish the e-mail it is sending; a stuck one is killed.
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
