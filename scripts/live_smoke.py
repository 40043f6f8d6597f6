"""Start the installed ``dispatch serve`` from an empty folder and use it as a CAD would.

Run by scripts/check_wheel.sh with the wheel installed with its ``service`` extra: the packaged
migrations, the bundled scenario and incident table, and the HTTP routes must work from the
wheel alone. Standard library only. Prints "live smoke: ok" and exits 0 when all is well.

    python scripts/live_smoke.py SCENARIO
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> str:
    done = subprocess.run(["dispatch", *args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"dispatch {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return done.stdout.strip()


def request(url: str, key: str | None, body: object = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def main(scenario: str) -> int:
    db = "sqlite:///live-smoke.db"
    key = cli("keys", "create", "--role", "admin", "--db", db)
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"
    server = subprocess.Popen(
        ["dispatch", "serve", scenario, "--db", db, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if request(f"{base}/health", None)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the service did not start:\n{server.stderr.read()}")
            time.sleep(0.2)
        assert request(f"{base}/units", None)[0] == 401, "units without a key"
        status, units = request(f"{base}/units", key)
        assert status == 200 and units, units
        call = {
            "call_id": "SMOKE-1",
            "received_at": datetime.now(UTC).isoformat(),
            "lat": 38.627,
            "lon": -90.199,
            "call_type": "mental_health",
        }
        status, decision = request(f"{base}/calls", key, call)
        assert status == 200 and decision["decision"] in ("recommended", "queued", "fallback"), (
            status,
            decision,
        )
        status, bad = request(f"{base}/calls", key, {**call, "call_id": "SMOKE-2", "lat": 99})
        assert status == 422 and bad["field"] == "lat", (status, bad)
    finally:
        server.terminate()
        server.wait(timeout=30)
    replayed = cli("audit", "replay", "--db", db)
    assert replayed.endswith("0 differ"), replayed
    print(f"live smoke: ok ({decision['decision']}; {replayed})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
