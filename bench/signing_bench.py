"""Public signing over HTTP on the real server stack, beside a bare Django view in the same run.

    .venv/bin/python -m bench.signing_bench [--seconds 10] [--max-ops 4000] [--threads 8]
                                            [--open-loop RATES]

Builds a throwaway data directory (SQLite in WAL mode with synchronous=FULL: the real
settings), migrates it, creates a public petition and starts `solidarity serve` (cheroot) on a
free loopback port. Then, at 50 and at 200 concurrent clients, it times two workloads:

- signing: GET the petition page (form and CSRF token), POST a signature with a new e-mail
  address; done when the server answers 302 (the "thank you"). Every signature is stored and
  its confirmation e-mail queued before that answer.
- bare: GET /bench/bare/ (a CSRF token), POST it back; Django's whole request handling with
  nothing behind it (bench/bare_view.py, routed only with SOLIDARITY_BENCH=1).

It prints operations per second and the p50/p99 latency of a whole operation (both requests),
and the ratio signing/bare, which is the figure that carries across machines. These clients
sign again the moment they are answered (a closed loop), so their latency is clients divided by
throughput whatever the server does; `--open-loop 10,25` then also lets 50 users sign at fixed
arrival rates (signings per second) and reports the latency a supporter would see at that load.
Each workload stops after --seconds or --max-ops, whichever comes first. Everything runs on
127.0.0.1 and is removed at the end. Exit status 1 if an acknowledged signature is missing from
the database.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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

LEVELS = (50, 200)
BARE_PATH = "/bench/bare/"
AIM_RATIO = 0.70
FLOOR_RATIO = 0.50
AIM_P99_MS = 100.0
OPEN_USERS = 50
# Numbers the simulated supporters across all workloads: each e-mail address signs once.
_UNIQUE = itertools.count()


@dataclass
class Result:
    name: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    acknowledged: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def run(
    name: str,
    concurrency: int,
    operation: Callable[[Browser, int], bool],
    port: int,
    seconds: float,
    max_ops: int,
) -> Result:
    """`concurrency` threads repeat `operation` until time or the operation budget is up."""
    result = Result(name, concurrency)
    budget = itertools.count()
    lock = threading.Lock()
    ready = threading.Barrier(concurrency + 1)
    deadline = [float("inf")]

    def client() -> None:
        browser = Browser(port)
        # One untimed operation first: the connection and the CSRF cookie, as a tab has them.
        try:
            operation(browser, next(_UNIQUE))
        except (OSError, RuntimeError, http.client.HTTPException):
            browser.close()
        finally:
            ready.wait()
        while time.monotonic() < deadline[0] and next(budget) < max_ops:
            began = time.perf_counter()
            try:
                ok = operation(browser, next(_UNIQUE))
            except (OSError, RuntimeError, http.client.HTTPException):
                ok = False
            elapsed = time.perf_counter() - began
            with lock:
                if ok:
                    result.latencies.append(elapsed)
                else:
                    result.errors += 1
        browser.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    ready.wait()
    began = time.monotonic()
    deadline[0] = began + seconds
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - began
    return result


def run_open(
    rate: float, users: int, operation: Callable[[Browser, int], bool], port: int, seconds: float
) -> Result:
    """Open loop: signings arrive at `rate` per second, evenly spaced, whatever the answers do.

    `users` client threads take the arrivals in turn. Latency counts from the moment a signing
    was due, so time spent waiting for a free user (because the server is slow) is counted,
    as a real supporter would feel it.
    """
    result = Result(f"open {rate:g}/s", users)
    arrivals = iter(range(max(1, int(rate * seconds))))
    lock = threading.Lock()
    ready = threading.Barrier(users + 1)
    start = [0.0]

    def client() -> None:
        browser = Browser(port)
        try:  # untimed: the connection and the CSRF cookie, as a tab has them
            operation(browser, next(_UNIQUE))
        except (OSError, RuntimeError, http.client.HTTPException):
            browser.close()
        finally:
            ready.wait()
        while True:
            with lock:
                arrival = next(arrivals, None)
            if arrival is None:
                break
            due = start[0] + arrival / rate
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                ok = operation(browser, next(_UNIQUE))
            except (OSError, RuntimeError, http.client.HTTPException):
                ok = False
            elapsed = time.monotonic() - due
            with lock:
                if ok:
                    result.latencies.append(elapsed)
                else:
                    result.errors += 1
        browser.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(users)]
    for thread in threads:
        thread.start()
    start[0] = time.monotonic() + 0.2
    ready.wait()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - start[0]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per workload (default 10)")
    parser.add_argument("--max-ops", type=int, default=4000, help="per workload (default 4000)")
    parser.add_argument("--threads", type=int, default=8, help="server threads (default 8)")
    parser.add_argument(
        "--open-loop",
        default="",
        metavar="RATES",
        help="then sign at these fixed arrival rates per second, e.g. 10,25 (50 users)",
    )
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.open_loop.split(",") if r.strip()]

    data_dir = Path(tempfile.mkdtemp(prefix="solidarity-bench-"))
    server = None
    try:
        env = prepare(data_dir)
        sign_path = petition_path(env)
        port = free_port()
        server = start_server(env, port, args.threads)
        acknowledged: list[str] = []
        ack_lock = threading.Lock()

        def sign(browser: Browser, number: int) -> bool:
            email = f"supporter{number}@bench.example.org"
            # A distinct client address per signature (see bench/_stack.py).
            client = f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"
            ok = browser.sign(sign_path, email, client) == 302
            if ok:
                with ack_lock:
                    acknowledged.append(email)
            return ok

        def bare(browser: Browser, number: int) -> bool:
            return browser.bare(BARE_PATH) == 200

        results: list[tuple[Result, Result]] = []
        for concurrency in LEVELS:
            baseline = run("bare", concurrency, bare, port, args.seconds, args.max_ops)
            signing = run("signing", concurrency, sign, port, args.seconds, args.max_ops)
            results.append((baseline, signing))
        open_results = [run_open(rate, OPEN_USERS, sign, port, args.seconds) for rate in rates]

        # The server stopped first: the worker's step is timed alone, not beside the clients.
        server.terminate()
        server.wait(timeout=30)
        server = None
        recording = record_received(data_dir)
        stored = signatures_in_database(data_dir)
        lost = [email for email in acknowledged if email not in stored]
        _report(results, args.threads, len(acknowledged), len(lost))
        _report_open(open_results)
        print(f"Worker's step, after the run: {recording}")
        return 1 if lost else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def _report(results: list[tuple[Result, Result]], threads: int, acked: int, lost: int) -> None:
    print(f"Solidarity signing benchmark: cheroot with {threads} threads, SQLite (WAL, FULL)")
    print(f"Python {sys.version.split()[0]}, {_cpus()} CPUs, client and server on one machine")
    header = f"{'clients':>7}  {'workload':<8} {'ops':>6} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
    print(header + f" {'errors':>6}")
    for baseline, signing in results:
        for r in (baseline, signing):
            print(
                f"{r.concurrency:>7}  {r.name:<8} {len(r.latencies):>6} {r.rate:>8.1f} "
                f"{r.percentile(0.50):>8.1f} {r.percentile(0.99):>8.1f} {r.errors:>6}"
            )
        ratio = signing.rate / baseline.rate if baseline.rate else 0.0
        verdict = (
            "meets the aim"
            if ratio >= AIM_RATIO
            else ("above the floor" if ratio >= FLOOR_RATIO else "BELOW THE FLOOR")
        )
        print(f"{'':>7}  signing/bare = {ratio:.0%} ({verdict}: aim 70 %, floor 50 %)")
        if signing.concurrency == 50:
            p99 = signing.percentile(0.99)
            mark = "meets" if p99 < AIM_P99_MS else "MISSES"
            print(f"{'':>7}  signing p99 at 50 clients = {p99:.0f} ms ({mark} the aim of 100 ms)")
    print(f"Acknowledged signatures: {acked}; missing from the database: {lost}")


def _report_open(results: list[Result]) -> None:
    if not results:
        return
    print(f"Open loop: {OPEN_USERS} users, latency from when each signing was due")
    print(f"{'offered/s':>9} {'done/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for r in results:
        offered = r.name.removeprefix("open ").removesuffix("/s")
        print(
            f"{offered:>9} {r.rate:>7.1f} {r.percentile(0.50):>8.1f} "
            f"{r.percentile(0.99):>8.1f} {r.errors:>6}"
        )


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
