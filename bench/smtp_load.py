#!/usr/bin/python3
"""SMTP submission load generator (docs/benchmarks.md, "SMTP submission").

Starts `mailtally serve` with a fresh data dir and the SMTP ports on 127.0.0.1, opens N
concurrent authenticated sessions (STARTTLS by default) and, in each, sends messages to the
mailbox simulator back to back for a fixed time: MAIL, RCPT and DATA pipelined in one write,
then the message and its "." in another. Latency is measured from writing the final "." to
reading the "250 Ok <MessageId>" (the message is durable by then). Prints a Markdown summary.

    /usr/bin/python3 bench/smtp_load.py --bin build/src/app/mailtally --sessions 8 --duration 10

Only standard-library modules; sends traffic only to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

SIM = "success@simulator.amazonses.com"


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


class Server:
    def __init__(self, binary: str, threads: int):
        self.dir = tempfile.mkdtemp(prefix="mt-smtp-bench-")
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.dir + "/data",
             "--threads", str(threads), "--smtp-listen", "127.0.0.1:0",
             "--smtp-tls-listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "listening on http://" in line:
                break
        text = "".join(lines)
        self.key_id, self.secret = re.search(
            r"AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)", text).groups()
        self.port = int(re.search(r"smtp://127\.0\.0\.1:(\d+)", text).group(1))
        self.tls_port = int(re.search(r"smtps://127\.0\.0\.1:(\d+)", text).group(1))
        self.http = re.search(r"(http://127\.0\.0\.1:\d+)", text).group(1)
        out = subprocess.run([binary, "keys", "smtp-password", self.key_id, "--data-dir",
                              self.dir + "/data"], capture_output=True, text=True, check=True)
        self.password = out.stdout.strip()

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def send_events(self) -> int:
        """Counts the Send events in the event log (pages of 1000)."""
        n, after = 0, 0
        while True:
            url = f"{self.http}/_mailtally/events?type=Send&limit=1000&after={after}"
            with urllib.request.urlopen(url, timeout=30) as r:
                page = json.load(r)
            n += len(page["events"])
            if len(page["events"]) < 1000:
                return n
            after = page["next_after"]

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


async def reply(reader: asyncio.StreamReader) -> tuple[int, str]:
    while True:
        line = (await reader.readline()).decode()
        if not line:
            raise ConnectionError("closed by the server")
        if len(line) < 4 or line[3] != "-":
            return int(line[:3]), line.strip()


async def expect(reader, code: int):
    got, text = await reply(reader)
    if got != code:
        raise RuntimeError(f"expected {code}, got {text}")
    return text


async def session(srv: Server, mode: str, stop_at: float, latencies: list[float],
                  errors: list[str], body: bytes):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        if mode == "implicit":
            reader, writer = await asyncio.open_connection("127.0.0.1", srv.tls_port, ssl=ctx)
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        await expect(reader, 220)
        writer.write(b"EHLO bench.example\r\n")
        await expect(reader, 250)
        if mode == "starttls":
            writer.write(b"STARTTLS\r\n")
            await expect(reader, 220)
            await writer.start_tls(ctx)
            writer.write(b"EHLO bench.example\r\n")
            await expect(reader, 250)
        token = base64.b64encode(b"\0" + srv.key_id.encode() + b"\0" + srv.password.encode())
        writer.write(b"AUTH PLAIN " + token + b"\r\n")
        await expect(reader, 235)
        envelope = f"MAIL FROM:<bench@example.com>\r\nRCPT TO:<{SIM}>\r\nDATA\r\n".encode()
        while time.monotonic() < stop_at:
            writer.write(envelope)
            await expect(reader, 250)
            await expect(reader, 250)
            await expect(reader, 354)
            writer.write(body)
            t0 = time.perf_counter()
            writer.write(b".\r\n")
            code, text = await reply(reader)
            dt = time.perf_counter() - t0
            if code != 250:
                errors.append(text)
                continue
            latencies.append(dt)
        writer.write(b"QUIT\r\n")
        await reply(reader)
        writer.close()
    except Exception as e:  # noqa: BLE001 - reported in the summary
        errors.append(f"{type(e).__name__}: {e}")


async def run(srv: Server, sessions: int, duration: float, mode: str, size: int):
    filler = (b"x" * 76 + b"\r\n") * max(1, size // 78)
    body = (b"From: Bench <bench@example.com>\r\nTo: " + SIM.encode() +
            b"\r\nSubject: load\r\nX-SES-MESSAGE-TAGS: campaign=bench\r\n\r\n" + filler)
    latencies: list[float] = []
    errors: list[str] = []
    t0 = time.monotonic()
    await asyncio.gather(*(session(srv, mode, t0 + duration, latencies, errors, body)
                           for _ in range(sessions)))
    return latencies, errors, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="build/src/app/mailtally")
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--mode", choices=["starttls", "implicit", "plain"], default="starttls",
                    help="plain needs AUTH without TLS, which the server refuses: for errors only")
    ap.add_argument("--size", type=int, default=2000, help="approximate body bytes")
    ap.add_argument("--threads", type=int, default=2, help="HTTP worker threads of the server")
    args = ap.parse_args()

    binary = shutil.copy(args.bin, tempfile.mkdtemp(prefix="mt-smtp-bin-") + "/mailtally")
    module = os.path.join(os.path.dirname(os.path.abspath(args.bin)), "libmailtally_mime.so")
    if os.path.exists(module):
        shutil.copy(module, os.path.dirname(binary))
    srv = Server(binary, args.threads)
    try:
        load_before = os.getloadavg()
        if args.warmup > 0:
            asyncio.run(run(srv, args.sessions, args.warmup, args.mode, args.size))
        sends_before = srv.send_events()
        cpu_before = srv.cpu_seconds()
        client_before = time.process_time()
        lat, errors, elapsed = asyncio.run(run(srv, args.sessions, args.duration, args.mode,
                                               args.size))
        server_cpu = srv.cpu_seconds() - cpu_before
        client_cpu = time.process_time() - client_before
        load_after = os.getloadavg()
        time.sleep(0.5)
        sends = srv.send_events() - sends_before
    finally:
        srv.close()
        shutil.rmtree(os.path.dirname(binary), ignore_errors=True)
    lat.sort()
    ms = [v * 1000 for v in lat]
    print("| sessions | mode | messages | msg/s | p50 ms | p90 ms | p99 ms | max ms | errors |"
          " Send events | server CPU s | client CPU s |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.sessions} | {args.mode} | {len(lat)} | {len(lat) / elapsed:.0f} | "
          f"{percentile(ms, 50):.2f} | {percentile(ms, 90):.2f} | {percentile(ms, 99):.2f} | "
          f"{(ms[-1] if ms else float('nan')):.2f} | {len(errors)} | {sends} | "
          f"{server_cpu:.1f} | {client_cpu:.1f} |")
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
          f"duration {elapsed:.1f} s, body ~{args.size} bytes", file=sys.stderr)
    if errors:
        print("first errors: " + "; ".join(errors[:3]), file=sys.stderr)
    return 1 if errors or sends != len(lat) else 0


if __name__ == "__main__":
    sys.exit(main())
