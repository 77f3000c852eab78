#!/usr/bin/python3
"""Load-test helper for bench/load/run.sh (needs only Debian's python3-botocore).

Subcommands:
  seed       URL N PREFIX               create N configuration sets (signed, checks 200)
  gen-v1     URL OUT                    one pre-signed SES v1 ListConfigurationSets request
  gen-v2     URL OUT                    one pre-signed SES v2 GET /v2/email/configuration-sets
  gen-writes URL N PREFIX OUT           N pre-signed, distinct SES v1 CreateConfigurationSet
  gen-send-v1 URL OUT [SET]             one pre-signed SES v1 SendEmail to the simulator
  gen-send-v2 URL OUT [SET]             one pre-signed SES v2 SendEmail (Simple) to the simulator
  check      FILE                       send the first request of FILE once, print the status
  startup    BIN RUNS [DIR]             start-to-/health times (fresh dirs, or DIR each time)

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Request files hold raw HTTP/1.1
requests separated by a NUL byte; bench/load/replay.lua replays them with wrk.
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"
# What botocore sends for the SES Query protocol (as captured from a real boto3 client).
FORM_CT = "application/x-www-form-urlencoded; charset=utf-8"
USER_AGENT = "Boto3/1.26.27 Python/3.11.2 Linux/6 Botocore/1.29.27 mailtally-bench"


def credentials():
    return Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])


def host_of(url):
    return urllib.parse.urlsplit(url).netloc


def signed_raw(url, method, path, body=b"", headers=None, creds=None, auth=None):
    """A raw HTTP/1.1 request, signed with botocore's SigV4Auth (service ses)."""
    hdrs = {"User-Agent": USER_AGENT}
    hdrs.update(headers or {})
    req = AWSRequest(method=method, url=url.rstrip("/") + path, data=body, headers=hdrs)
    (auth or SigV4Auth(creds or credentials(), "ses", REGION)).add_auth(req)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host_of(url)}"]
    for k, v in req.headers.items():
        if k.lower() in ("host", "content-length"):
            continue
        lines.append(f"{k}: {v}")
    # botocore adds these after signing (unsigned), as here.
    lines.append(f"amz-sdk-invocation-id: {uuid.uuid4()}")
    lines.append("amz-sdk-request: attempt=1")
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def v1_body(action, **params):
    q = {"Action": action, "Version": "2010-12-01"}
    q.update(params)
    return urllib.parse.urlencode(q).encode()


def send_raw(url, raw, timeout=10):
    """Sends one raw request, returns (status, body)."""
    u = urllib.parse.urlsplit(url)
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        while len(rest) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        return status, rest


def write_requests(out, raws):
    with open(out, "wb") as f:
        f.write(b"\0".join(raws))


def cmd_seed(url, n, prefix):
    auth = SigV4Auth(credentials(), "ses", REGION)
    for i in range(int(n)):
        body = v1_body("CreateConfigurationSet", **{"ConfigurationSet.Name": f"{prefix}{i:05d}"})
        raw = signed_raw(url, "POST", "/", body, {"Content-Type": FORM_CT}, auth=auth)
        status, resp = send_raw(url, raw)
        if status != 200:
            sys.exit(f"seed: HTTP {status}: {resp[:300]!r}")


def cmd_gen_v1(url, out):
    body = v1_body("ListConfigurationSets")
    write_requests(out, [signed_raw(url, "POST", "/", body, {"Content-Type": FORM_CT})])


def cmd_gen_v2(url, out):
    write_requests(out, [signed_raw(url, "GET", "/v2/email/configuration-sets")])


def cmd_gen_writes(url, n, prefix, out):
    auth = SigV4Auth(credentials(), "ses", REGION)
    raws = []
    for i in range(int(n)):
        body = v1_body("CreateConfigurationSet", **{"ConfigurationSet.Name": f"{prefix}{i:05d}"})
        raws.append(signed_raw(url, "POST", "/", body, {"Content-Type": FORM_CT}, auth=auth))
    write_requests(out, raws)


SEND_TO = "success@simulator.amazonses.com"
SEND_FROM = "sender@example.com"
SEND_TEXT = "Hello from the mailtally load test. " * 8


def cmd_gen_send_v1(url, out, configuration_set=""):
    """A v1 SendEmail; replaying it sends a new message each time (SES does not deduplicate)."""
    params = {"Source": SEND_FROM, "Destination.ToAddresses.member.1": SEND_TO,
              "Message.Subject.Data": "load test", "Message.Body.Text.Data": SEND_TEXT,
              "Tags.member.1.Name": "campaign", "Tags.member.1.Value": "load"}
    if configuration_set:
        params["ConfigurationSetName"] = configuration_set
    body = v1_body("SendEmail", **params)
    write_requests(out, [signed_raw(url, "POST", "/", body, {"Content-Type": FORM_CT})])


def cmd_gen_send_v2(url, out, configuration_set=""):
    doc = {"FromEmailAddress": SEND_FROM, "Destination": {"ToAddresses": [SEND_TO]},
           "Content": {"Simple": {"Subject": {"Data": "load test"},
                                  "Body": {"Text": {"Data": SEND_TEXT}}}},
           "EmailTags": [{"Name": "campaign", "Value": "load"}]}
    if configuration_set:
        doc["ConfigurationSetName"] = configuration_set
    body = json.dumps(doc).encode()
    write_requests(out, [signed_raw(url, "POST", "/v2/email/outbound-emails", body,
                                    {"Content-Type": "application/json"})])


def cmd_check(url, path):
    with open(path, "rb") as f:
        raw = f.read().split(b"\0")[0]
    status, body = send_raw(url, raw)
    print(status, body[:200].decode(errors="replace").replace("\n", " "))
    sys.exit(0 if status == 200 else 1)


def health(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


def one_start(binary, data_dir, env):
    """Spawn, read stdout up to the 'listening' line, one GET /health. Returns ms timings."""
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        port = None
        for line in p.stdout:
            if b"listening on http://" in line:
                port = int(line.split(b"listening on http://", 1)[1].split(b" ", 1)[0].rsplit(b":", 1)[1])
                break
        t_listen = time.perf_counter()
        if port is None:
            raise RuntimeError("no 'listening' line")
        status = health(port)
        t_health = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"/health answered {status}")
        return (t_listen - t0) * 1e3, (t_health - t0) * 1e3
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def pct(values, q):
    s = sorted(values)
    # nearest-rank percentile
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def cmd_startup(binary, runs, existing=None):
    runs = int(runs)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTALLY_")}
    listen, healthy = [], []
    tmp = tempfile.mkdtemp(prefix="mtstart.")
    try:
        for i in range(runs):
            d = existing if existing else os.path.join(tmp, f"d{i}")
            a, b = one_start(binary, d, env)
            listen.append(a)
            healthy.append(b)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # Baselines: spawning the binary at all (`mailtally --version` exits at once), and spawning
    # /bin/true from this Python process.
    spawn, true_ = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([binary, "--version"], stdout=subprocess.DEVNULL, check=True)
        spawn.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        subprocess.run(["/bin/true"], check=True)
        true_.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({
        "runs": runs,
        "health_median_ms": statistics.median(healthy), "health_p95_ms": pct(healthy, 95),
        "health_max_ms": max(healthy),
        "listen_median_ms": statistics.median(listen), "listen_p95_ms": pct(listen, 95),
        "version_median_ms": statistics.median(spawn), "true_median_ms": statistics.median(true_),
    }))


def main():
    cmds = {"seed": cmd_seed, "gen-v1": cmd_gen_v1, "gen-v2": cmd_gen_v2,
            "gen-writes": cmd_gen_writes, "gen-send-v1": cmd_gen_send_v1,
            "gen-send-v2": cmd_gen_send_v2, "check": cmd_check, "startup": cmd_startup}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
