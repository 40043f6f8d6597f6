"""Live service under load: ``dispatch serve`` on SQLite, 200 units, events and calls over HTTP.

Starts the real service as a subprocess (``dispatch serve`` on a fresh SQLite journal, a
dispatcher key made with ``dispatch keys create``) on a scenario of 200 units around the clock
at four stations, straight-line travel. Then an async client on loopback (a minimal HTTP/1.1
keep-alive client on asyncio streams, uvloop where installed; at most ``--concurrency``
requests in flight, one connection each) sends for ``--seconds``:

* 80% unit status events (``POST /v1/events``, one event each, unique ``event_id``): a unit
  the service sent to a call reports ``en_route``, ``on_scene``, then ``available`` with its
  position (the clear, which frees it); an idle unit reports ``available`` with a position.
  At most one event per unit is in flight, so a unit's reports arrive in order;
* 20% calls (``POST /v1/calls``, unique ``call_id``, near a station), whose recommended teams
  then run the sequence above, so the fleet does not run out.

Requests start at ``--rate`` per second (open loop), each on an idle keep-alive connection;
when none is free the schedule slips, and what is still unsent at the end is counted, not
sent late. Latency is shown from the scheduled start (so a server that falls behind shows it)
and from sending. ``--rate 0`` runs closed loop instead: ``--concurrency`` workers, each
sending its next request when the last is answered. Printed: sustained requests/s (paced:
requests answered over the schedule's length, with how long the last answers took after it),
CPU per request of the server (its event loop and its other threads, the journal writer's)
and of the client, the load average (other work on the machine takes cores from both), how
long the disk takes to sync a small write during the run (each commit waits for one),
p50/p99 per kind, errors (non-2xx or exceptions), events by result and calls
by decision. Goal: at least 1,000 requests/s with the calls' p99 (from the scheduled start)
under 20 ms and no errors, client included, on a 2-core machine. Nothing here is asserted.

Run: ``.venv/bin/python benchmarks/bench_live.py [--seconds 60] [--rate 1000]``
(``--seconds 5`` for a quick look; ``--profile FILE`` runs the server under cProfile).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import platform
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

BIN = Path(sys.executable).parent
T = TypeVar("T")
GOAL_RPS = 1_000.0
GOAL_CALL_P99_MS = 20.0
STATIONS = {
    "north": (38.67, -90.24),
    "south": (38.58, -90.25),
    "east": (38.63, -90.19),
    "west": (38.64, -90.31),
}
TEAMS_PER_STATION = {"co_responder": 30, "patrol": 20}  # x 4 stations = 200 units
BUSY_SEQUENCE = ("en_route", "on_scene", "available")

SCENARIO = """
name = "live benchmark city"
seed = 1
timezone = "America/Chicago"

[network]
kind = "straight_line"
speed_kph = 40
circuity = 1.3

[calls.synthetic]
calls_per_day = 10
days = 1
locations = [[38.63, -90.20, 1.0]]

[service]
transport_share = 0

[policy]
fallback_after_min = 10
fallback = "pool"
"""


def scenario_text() -> str:
    """The scenario: four stations, 50 units at each, no shifts (always on duty)."""
    parts = [SCENARIO]
    for name, (lat, lon) in STATIONS.items():
        parts.append(f'\n[[stations]]\nid = "{name}"\nlat = {lat}\nlon = {lon}\n')
    for name in STATIONS:
        for kind, count in TEAMS_PER_STATION.items():
            prefix = "CR" if kind == "co_responder" else "P"
            parts.append(
                f'\n[[teams]]\nid = "{prefix}-{name}"\ncount = {count}\nkind = "{kind}"\n'
                f'cit = {str(kind == "co_responder").lower()}\nstation = "{name}"\n'
            )
    return "".join(parts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Fleet:
    """What the client knows of the units: which are on a call and what they report next."""

    rng: random.Random
    units: list[str]
    home: dict[str, tuple[float, float]]
    todo: dict[str, collections.deque[str]] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)

    def sent(self, decisions: list[dict[str, Any]]) -> None:
        """Units the service sent to a call start their sequence of reports."""
        for decision in decisions:
            if decision.get("type") == "dispatch" and decision.get("team_id"):
                self.todo[decision["team_id"]] = collections.deque(BUSY_SEQUENCE)

    def next_event(self) -> tuple[str, str] | None:
        """A unit with no event in flight and the status it reports, busy units first."""
        for unit, steps in self.todo.items():  # oldest dispatch first: clears keep up
            if unit not in self.in_flight:
                status = steps.popleft()
                if not steps:
                    del self.todo[unit]
                return unit, status
        for _ in range(20):
            unit = self.rng.choice(self.units)
            if unit not in self.in_flight and unit not in self.todo:
                return unit, "available"
        return None

    def near(self, unit: str | None = None, spread: float = 0.01) -> tuple[float, float]:
        lat, lon = self.home[unit] if unit else self.rng.choice(list(STATIONS.values()))
        return (
            round(lat + self.rng.uniform(-spread, spread), 6),
            round(lon + self.rng.uniform(-spread, spread), 6),
        )


class HTTPError(Exception):
    """A request that got no HTTP answer: connection refused or closed, timeout, bad answer."""


class Connection(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection carrying one request at a time.

    A minimal client for a known server: requests with a ``Content-Length`` body, answers
    with a ``Content-Length`` body (no chunked encoding); it reconnects when the server closed
    the connection (``Connection: close``) and fails a request with `HTTPError` when there is
    no answer within ``timeout_s``.
    """

    def __init__(self, host: str, port: int, key: str, timeout_s: float = 30.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._head = (
            f"Host: {host}:{port}\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._body_at = -1  # where the answer's body starts, -1 until its head is read
        self._length = 0
        self._status = 0
        self._close = False

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        self._buffer.clear()
        self._body_at = -1
        try:
            transport, _ = await loop.create_connection(lambda: self, self.host, self.port)
        except OSError as error:
            raise HTTPError(f"connect: {error}") from None
        self._transport = transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._fail("connection closed")

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._body_at < 0:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self._buffer[:end].decode("latin-1").split("\r\n")
            try:
                self._status = int(lines[0].split(" ", 2)[1])
            except (IndexError, ValueError):
                self._fail(f"bad status line {lines[0]!r}")
                return
            self._length, self._close = 0, False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    self._length = int(value)
                elif name == "connection":
                    self._close = value.strip().lower() == "close"
                elif name == "transfer-encoding":
                    self._fail("chunked answers are not supported")
                    return
            self._body_at = end + 4
        end = self._body_at + self._length
        if len(self._buffer) < end:
            return
        body = bytes(self._buffer[self._body_at : end])
        del self._buffer[:end]
        self._body_at = -1
        waiter.set_result((self._status, body))

    def _fail(self, why: str) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(HTTPError(why))

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """Send one request; its status and body."""
        if self._transport is None or self._transport.is_closing():
            await self._connect()
        assert self._transport is not None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[tuple[int, bytes]] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(self.timeout_s, self._fail, "timeout")
        self._transport.write(
            b"%s %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
            % (method.encode(), path.encode(), self._head, len(body), body)
        )
        try:
            answer: tuple[int, bytes] = await waiter
        finally:
            timer.cancel()
            self._waiter = None
        if self._close:
            self.close()
        return answer

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


@dataclass
class Tally:
    # from the request's scheduled start (waiting for a free connection included) ...
    latency_s: dict[str, list[float]] = field(default_factory=lambda: {"event": [], "call": []})
    # ... and from when it was sent
    service_s: dict[str, list[float]] = field(default_factory=lambda: {"event": [], "call": []})
    events: collections.Counter[str] = field(default_factory=collections.Counter)
    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    skipped: int = 0  # event slots with no unit free to report (all busy in flight)
    behind: int = 0  # requests due before the end but not started: no connection was free


class Load:
    """The request mix; each request goes through a keep-alive connection of its own."""

    def __init__(self, fleet: Fleet, seed: int) -> None:
        self.fleet = fleet
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.n = 0

    async def one(self, client: Connection, started: float) -> None:
        """One request of the mix; latency counts from ``started`` (perf_counter)."""
        self.n += 1
        if self.rng.random() < 0.2:
            await self._call(client, started)
        else:
            await self._event(client, started)

    async def _call(self, client: Connection, started: float) -> None:
        lat, lon = self.fleet.near(spread=0.02)
        body = {
            "call_id": f"B-{self.n}",
            "received_at": now_iso(),
            "lat": lat,
            "lon": lon,
            "call_type": "mental_health",
            "priority": self.rng.choice((1, 2, 2, 3)),
            "risk": self.rng.choice(("low", "standard", "standard", "high")),
        }
        answer = await self._post(client, "call", "/v1/calls", body, started)
        if answer is not None:
            self.tally.calls[answer["decision"]] += 1
            self.fleet.sent(answer.get("decisions", []))

    async def _event(self, client: Connection, started: float) -> None:
        picked = self.fleet.next_event()
        if picked is None:
            self.tally.skipped += 1
            return
        unit, status = picked
        body: dict[str, Any] = {
            "event_id": f"E-{self.n}",
            "unit_id": unit,
            "at": now_iso(),
            "status": status,
        }
        if status == "available":
            body["lat"], body["lon"] = self.fleet.near(unit)
        self.fleet.in_flight.add(unit)
        try:
            answer = await self._post(client, "event", "/v1/events", body, started)
        finally:
            self.fleet.in_flight.discard(unit)
        if answer is not None:
            self.tally.events[answer["result"]] += 1
            self.fleet.sent(answer.get("decisions", []))

    async def _post(
        self, client: Connection, kind: str, path: str, body: Any, started: float
    ) -> dict[str, Any] | None:
        data = json.dumps(body).encode()
        sent = time.perf_counter()
        try:
            status, text = await client.request("POST", path, data)
        except HTTPError as error:
            self.tally.errors[f"{kind} {error}"] += 1
            return None
        answered = time.perf_counter()
        self.tally.latency_s[kind].append(answered - started)
        self.tally.service_s[kind].append(answered - sent)
        if not 200 <= status < 300:
            self.tally.errors[f"{kind} HTTP {status}"] += 1
            return None
        answer: dict[str, Any] = json.loads(text)
        return answer


async def paced(load: Load, clients: list[Connection], seconds: float, rate: float) -> float:
    """Start requests at ``rate``/s for ``seconds``, each on an idle client (waits for one)."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for client in clients:
        idle.put_nowait(client)
    tasks: set[asyncio.Task[None]] = set()

    async def run(client: Connection, started: float) -> None:
        try:
            await load.one(client, started)
        finally:
            idle.put_nowait(client)

    start = time.perf_counter()
    end = start + seconds
    i = 0
    while (due := start + i / rate) < end:
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        if idle.empty():  # every connection is busy: wait for one ...
            client = await idle.get()
            if time.perf_counter() >= end:  # ... but a server that fell behind gets no extra time
                load.tally.behind = int(seconds * rate) - i
                break
        else:  # a request due before the end starts, even if the timer woke a little late
            client = idle.get_nowait()
        task = asyncio.create_task(run(client, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        i += 1
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


async def closed(load: Load, clients: list[Connection], seconds: float) -> float:
    """A worker per client, each sending its next request when the last is answered."""
    start = time.perf_counter()
    end = start + seconds

    async def worker(client: Connection) -> None:
        while (t := time.perf_counter()) < end:
            await load.one(client, t)

    await asyncio.gather(*(worker(client) for client in clients))
    return time.perf_counter() - start


async def drive(port: int, key: str, args: argparse.Namespace) -> tuple[Tally, float, int]:
    clients = [Connection("127.0.0.1", port, key) for _ in range(args.concurrency)]
    try:
        status, text = await clients[0].request("GET", "/v1/units")  # the key works
        if status != 200:
            raise RuntimeError(f"GET /v1/units answered {status}: {text[:200]!r}")
        units = json.loads(text)
        rng = random.Random(args.seed)
        fleet = Fleet(
            rng=rng,
            units=[u["unit_id"] for u in units],
            home={u["unit_id"]: (u["lat"], u["lon"]) for u in units},
        )
        load = Load(fleet, args.seed + 1)
        if args.rate > 0:
            elapsed = await paced(load, clients, args.seconds, args.rate)
        else:
            elapsed = await closed(load, clients, args.seconds)
        return load.tally, elapsed, len(units)
    finally:
        for client in clients:
            client.close()


def start_server(folder: Path, db: str, port: int, profile: str | None) -> subprocess.Popen[bytes]:
    scenario = folder / "bench.toml"
    scenario.write_text(scenario_text(), encoding="utf-8")
    cmd = [str(BIN / "dispatch")]
    if profile:
        cmd = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "dispatch"]
    cmd += ["serve", str(scenario), "--db", db, "--port", str(port)]
    log = (folder / "server.log").open("wb")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"dispatch serve exited:\n{log.read_text(errors='replace')}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{base}/v1/health", timeout=1.0) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("dispatch serve did not answer /v1/health within 60 s")


def run_client(main: Coroutine[Any, Any, T]) -> T:
    """Run the client on uvloop where it is installed (as the server does), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


class DiskProbe:
    """Times a 4 KiB write and ``fdatasync`` every 50 ms in ``folder`` while the run lasts.

    Every journal commit waits for one such sync (SQLite WAL, ``synchronous=FULL``), so this is
    the floor under a request's latency; on a shared machine other work's I/O moves it.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / "probe.bin"
        self.sync_s: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> DiskProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            block = b"x" * 4096
            while not self._stop.wait(0.05):
                started = time.perf_counter()
                os.pwrite(fd, block, 0)
                os.fdatasync(fd)
                self.sync_s.append(time.perf_counter() - started)
        finally:
            os.close(fd)


def cpu_s(pid: int | None = None, *, main_thread: bool = False) -> float:
    """CPU seconds (user + system) used so far by this process, or by process ``pid`` (or by
    its main thread only, the one running the event loop)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    stat = f"/proc/{pid}/task/{pid}/stat" if main_thread else f"/proc/{pid}/stat"
    fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(
    tally: Tally,
    elapsed: float,
    units: int,
    cpu: tuple[float, float, float],
    args: argparse.Namespace,
) -> None:
    done = sum(len(v) for v in tally.latency_s.values())
    exceptions = sum(n for k, n in tally.errors.items() if "HTTP" not in k)
    errors = sum(tally.errors.values())
    # Paced, the rate is over the schedule: a request started in it and answered just after
    # its end (the drain, printed) still counts; closed loop, it is over the whole run.
    window = args.seconds if args.rate > 0 else elapsed
    rps = (done + exceptions) / window
    mode = f"paced at {args.rate:,.0f}/s" if args.rate > 0 else "closed loop"
    print(
        f"{units} units, {args.seconds:.0f} s {mode}, {args.concurrency} in flight at most, "
        f"seed {args.seed}; {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    drain = f" (+{max(elapsed - window, 0.0):.3f} s for the last answers)" if args.rate else ""
    print(
        f"requests                  {done + exceptions:,} in {window:.1f} s = {rps:,.0f}/s{drain}"
    )
    served = max(done, 1)
    print(
        f"CPU during the run        server {cpu[0]:.1f} s ({cpu[0] / elapsed:.0%} of a core, "
        f"{cpu[0] / served * 1e3:.2f} ms a request), client {cpu[1]:.1f} s "
        f"({cpu[1] / elapsed:.0%}, {cpu[1] / served * 1e3:.2f} ms a request)"
    )
    print(
        f"  server by thread        event loop {cpu[2] / served * 1e3:.2f} ms a request, "
        f"others (journal writer) {(cpu[0] - cpu[2]) / served * 1e3:.2f} ms"
    )
    # other work on the machine takes cores from both; say how busy it was
    print(f"load average at the end   {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("latency (ms)              from the scheduled start      from sending")
    for kind in ("event", "call"):
        waited, sent = tally.latency_s[kind], tally.service_s[kind]
        print(
            f"  {kind + 's':<8} {len(waited):>8,}     p50 {percentile(waited, 0.5) * 1e3:7.2f}"
            f"  p99 {percentile(waited, 0.99) * 1e3:7.2f}"
            f"    p50 {percentile(sent, 0.5) * 1e3:7.2f}  p99 {percentile(sent, 0.99) * 1e3:7.2f}"
        )
    if tally.behind:
        print(f"not started (fell behind) {tally.behind:,} of {int(args.seconds * args.rate):,}")
    print(f"events by result          {dict(sorted(tally.events.items()))}")
    print(f"calls by decision         {dict(sorted(tally.calls.items()))}")
    if tally.skipped:
        print(f"event slots with no free unit: {tally.skipped:,}")
    print(f"errors                    {errors}  {dict(tally.errors) if errors else ''}")
    call_p99_ms = percentile(tally.latency_s["call"], 0.99) * 1e3
    ok = rps >= GOAL_RPS and call_p99_ms < GOAL_CALL_P99_MS and errors == 0
    print(
        f"goal >= {GOAL_RPS:,.0f} req/s, calls p99 < {GOAL_CALL_P99_MS:.0f} ms, no errors: "
        f"{'PASS' if ok else 'MISS'}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=GOAL_RPS, help="requests/s; 0: closed loop")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--profile", default=None, help="write the server's cProfile here")
    args = parser.parse_args([] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="bench_live_") as tmp:
        folder = Path(tmp)
        db = f"sqlite:///{folder / 'bench.db'}"
        key = subprocess.run(
            [str(BIN / "dispatch"), "keys", "create", "--role", "dispatcher", "--db", db],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(folder, db, port, args.profile)
        try:
            wait_healthy(base, server, folder / "server.log")
            before = cpu_s(server.pid), cpu_s(), cpu_s(server.pid, main_thread=True)
            with DiskProbe(folder) as probe:
                tally, elapsed, units = run_client(drive(port, key, args))
            cpu = (
                cpu_s(server.pid) - before[0],
                cpu_s() - before[1],
                cpu_s(server.pid, main_thread=True) - before[2],
            )
        finally:
            # uvicorn shuts down cleanly (the journal is flushed), then re-raises the signal:
            # SIGINT ends Python with KeyboardInterrupt, so cProfile still writes its file
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        report(tally, elapsed, units, cpu, args)
        syncs = probe.sync_s
        print(
            f"disk during the run       4 KiB write + fdatasync p50 "
            f"{percentile(syncs, 0.5) * 1e3:.2f} ms, p99 {percentile(syncs, 0.99) * 1e3:.2f} ms "
            f"({len(syncs)} probes; every journal commit waits for one sync)"
        )
        if args.profile:
            print(f"server profile            {args.profile}")


if __name__ == "__main__":
    main(sys.argv[1:])
