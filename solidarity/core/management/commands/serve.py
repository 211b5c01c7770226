"""`solidarity serve`: run Solidarity under waitress, a production WSGI server.

Static files are served by WhiteNoise (configured in settings), so nothing else is needed.
"""

from __future__ import annotations

import ipaddress
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

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
        "Serve Solidarity with waitress on 127.0.0.1:8000 (static files through WhiteNoise). "
        "Listening on any other address needs --public."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
        parser.add_argument("--port", type=int, default=8000, help="default: 8000")
        parser.add_argument("--threads", type=int, default=8, help="worker threads (default: 8)")
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

        from waitress.server import create_server

        # WhiteNoise warns on every start when STATIC_ROOT is missing, which it is until
        # collectstatic runs; the files themselves come from the app directories (finders).
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

        from solidarity.wsgi import application

        try:
            server = create_server(
                application, host=host, port=port, threads=threads, ident="Solidarity"
            )
        except OSError as error:
            raise CommandError(f"Cannot listen on {host}:{port}: {error.strerror}") from error
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
        self.stdout.write("Press Ctrl+C to stop.")
        try:
            server.run()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
