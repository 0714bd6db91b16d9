"""Serving concurrency: one transcription (or diarization) server, the same requests, one or more at once.

For each CALLSCOPE_CONCURRENCY value: a `python -m callscope.serving KIND` process (the models that ship
with callscope), then ROUNDS x CLIENTS requests, CLIENTS at a time, each a real call sent as raw bytes.
Reports the wall time of all requests, the throughput relative to concurrency 1 measured in the same
run, the median latency, and the server's peak resident memory (VmHWM).

    .venv/bin/python bench/bench_serving.py --kind transcription --concurrency 1 2 --clients 2 --rounds 2
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CALLS = [ROOT / "examples" / "calls" / "demo-call.mp3", ROOT / "examples" / "calls" / "pyannote-sample.wav"]
CONTENT_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def invoke(port: int, call: Path) -> float:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("POST", "/invocations", call.read_bytes(), {"Content-Type": CONTENT_TYPES[call.suffix]})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 200:
        raise SystemExit(f"{call.name}: {response.status} {body[:200]!r}")
    return time.monotonic() - started


def wait_ready(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/ping")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("server not ready in 120 s")


def measure(kind: str, concurrency: int, clients: int, rounds: int) -> dict:
    port = free_port()
    env = {**os.environ, "CALLSCOPE_CONCURRENCY": str(concurrency)}
    process = subprocess.Popen([sys.executable, "-m", "callscope.serving", kind, "--port", str(port),
                                "--host", "127.0.0.1", "--model-dir", "/nonexistent"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, process)
        invoke(port, CALLS[1])  # warm-up, not counted
        requests = [CALLS[index % len(CALLS)] for index in range(clients * rounds)]
        started = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            latencies = list(pool.map(lambda call: invoke(port, call), requests))
        wall = time.monotonic() - started
        return {"concurrency": concurrency, "requests": len(requests), "wall_s": round(wall, 2),
                "median_latency_s": round(statistics.median(latencies), 2),
                "peak_rss_mb": round(peak_rss_mb(process.pid))}
    finally:
        process.terminate()
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("transcription", "diarization"), default="transcription")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=2, help="requests in flight from the client side")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results = [measure(args.kind, value, args.clients, args.rounds) for value in args.concurrency]
    baseline = results[0]["wall_s"]
    for result in results:
        result["throughput_vs_first"] = round(baseline / result["wall_s"], 2)
    print(json.dumps({"kind": args.kind, "cpus": os.cpu_count(), "clients": args.clients,
                      "calls": [call.name for call in CALLS], "results": results}, indent=2))


if __name__ == "__main__":
    main()
