"""Kill the server with SIGKILL in the middle of a signing burst; lose no acknowledged signature.

    .venv/bin/python -m bench.crash_test [--rounds 3] [--clients 50] [--seconds 2]

Builds the same throwaway stack as bench/signing_bench.py (real settings: SQLite in WAL mode
with synchronous=FULL; `solidarity serve` under cheroot on a free loopback port). Each round
starts the server, lets --clients supporters sign as fast as they can, SIGKILLs the server at
a random moment within --seconds after its first answer, and notes every signature that got
its "thank you" (the 302 answer) before the kill. The next round restarts the server on the
same database, which must come up and take signatures again. At the end, every acknowledged
signature must be in the database: the command prints the counts, and exits with status 1 if
any is missing.

What this proves: an acknowledged signature was committed before the answer, and a crashed
process loses nothing committed. SIGKILL leaves the operating system's page cache intact, so
it does not test a power cut; synchronous=FULL (each commit reaches the disk before the
answer) is what covers that, and it is in the settings this test runs with.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench._stack import (
    Browser,
    free_port,
    petition_path,
    prepare,
    record_received,
    signatures_in_database,
    start_server,
)


def burst(port: int, path: str, clients: int, kill_after: float, server_pid: int) -> list[str]:
    """Sign from `clients` threads, SIGKILL the server `kill_after` s after the first answer,
    and return the acknowledged signatures."""
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    first = threading.Event()
    numbers = _NUMBERS

    def supporter() -> None:
        browser = Browser(port)
        while not stop.is_set():
            number = next(numbers)
            email = f"crash{number}@bench.example.org"
            client = f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"
            try:
                status = browser.sign(path, email, client)
            except (OSError, RuntimeError, http.client.HTTPException):
                # The server is gone (or going): this one was never acknowledged.
                time.sleep(0.01)
                continue
            if status == 302:
                with lock:
                    acknowledged.append(email)
                first.set()
        browser.close()

    threads = [threading.Thread(target=supporter, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    # Mid-burst: the clock starts at the first "thank you", once the server is warm.
    first.wait(timeout=120)
    time.sleep(kill_after)
    os.kill(server_pid, signal.SIGKILL)
    # Let the clients see their connections fail before they are stopped.
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join(timeout=70)
    return acknowledged


_NUMBERS = itertools.count()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="kills (default 3)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent (default 50)")
    parser.add_argument("--seconds", type=float, default=2.0, help="kill within (default 2)")
    parser.add_argument("--seed", type=int, default=None, help="for a repeatable kill moment")
    args = parser.parse_args(argv)
    chance = random.Random(args.seed)

    data_dir = Path(tempfile.mkdtemp(prefix="solidarity-crash-"))
    try:
        env = prepare(data_dir)
        path = petition_path(env)
        acknowledged: list[str] = []
        for round_number in range(1, args.rounds + 1):
            port = free_port()
            server = start_server(env, port, threads=8)
            kill_after = chance.uniform(args.seconds / 4, args.seconds)
            acked = burst(port, path, args.clients, kill_after, server.pid)
            server.wait(timeout=30)
            print(
                f"round {round_number}: SIGKILL after {kill_after:.2f} s, "
                f"{len(acked)} signatures acknowledged before it"
            )
            acknowledged += acked
        # A last start on the crashed database: it must recover and still take signatures.
        port = free_port()
        server = start_server(env, port, threads=2)
        try:
            after = Browser(port).sign(path, "after-the-crash@bench.example.org", "10.255.0.1")
        finally:
            server.terminate()
            server.wait(timeout=30)
        # What the worker would do next: every received signature becomes a signature.
        print(f"Worker's step: {record_received(data_dir)}")
        stored = signatures_in_database(data_dir)
        lost = sorted(set(acknowledged) - stored)
        print(f"Acknowledged: {len(acknowledged)}; in the database: {len(stored)} (all rows)")
        print(f"Acknowledged but missing: {len(lost)}" + (f" e.g. {lost[:5]}" if lost else ""))
        print(f"Signing after the last crash answered {after} (302 expected)")
        if not acknowledged:
            print("No signature was acknowledged before a kill: raise --seconds.")
            return 1
        return 1 if lost or after != 302 else 0
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
