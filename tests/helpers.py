"""Shared helpers for the black-box tests: the server process, clients, raw signed requests.

Everything here talks to the real `mailtally` binary over HTTP, the way real clients do.
"""

from __future__ import annotations

import datetime
import hashlib
import http.client
import itertools
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable, Optional
from unittest import mock

import boto3
import botocore.auth
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.environ.get("MAILTALLY_BIN", os.path.join(REPO, "build", "src", "app", "mailtally"))
AWS_CLI = "/usr/bin/aws"
REGION = "us-east-1"

START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0

LISTENING_RE = re.compile(r"listening on (http://127\.0\.0\.1:(\d+))")
EXPORT_RE = re.compile(r"export AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)")

# botocore reads ~/.aws and AWS_* variables; keep the tests hermetic.
CLEAN_AWS_ENV = {
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_MAX_ATTEMPTS": "1",
    "AWS_RETRY_MODE": "standard",
    "AWS_PAGER": "",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}

_counter = itertools.count()


def unique(prefix: str = "t") -> str:
    """A name unique within the test run, valid as a configuration set / destination name."""
    return f"{prefix}-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.05,
               what: str = "condition"):
    """Polls `predicate` until it returns a truthy value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# The PostgreSQL mode of the suite: with MAILTALLY_TEST_DATABASE set to the admin URL of a
# PostgreSQL server (scripts/test.sh starts one), every `serve` and `keys` command that names a
# data dir also gets `--database` for a database of that data dir (created on first use, kept
# across restarts of the same data dir, dropped at the end of the run by conftest). So the whole
# black-box suite runs against the PostgreSQL backend unchanged.

TEST_DATABASE = os.environ.get("MAILTALLY_TEST_DATABASE", "")
_databases: set[str] = set()
_databases_lock = threading.Lock()


def _admin_psql(sql: str) -> None:
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", TEST_DATABASE, "-c", sql],
                   check=True, capture_output=True, timeout=60)


def database_url_for(data_dir: str) -> str:
    """The PostgreSQL URL of `data_dir`'s database in the PostgreSQL mode (created if new)."""
    name = "mt_" + hashlib.sha1(os.path.abspath(str(data_dir)).encode()).hexdigest()[:24]
    with _databases_lock:
        if name not in _databases:
            _admin_psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _admin_psql(f'CREATE DATABASE "{name}"')
            _databases.add(name)
    base, _, query = TEST_DATABASE.partition("?")
    url = base[:base.rindex("/") + 1] + name
    return url + ("?" + query if query else "")


def drop_test_databases() -> None:
    with _databases_lock:
        for name in sorted(_databases):
            try:
                _admin_psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except subprocess.SubprocessError:
                pass
        _databases.clear()


def with_test_database(args: list[str]) -> list[str]:
    """`args` plus --database for its --data-dir, in the PostgreSQL mode; else unchanged."""
    if not TEST_DATABASE or "--database" in args or "--data-dir" not in args:
        return list(args)
    i = args.index("--data-dir")
    if i + 1 >= len(args):
        return list(args)
    return [*args, "--database", database_url_for(args[i + 1])]


def run_bin(*args: str, timeout: float = 30, env: Optional[dict] = None):
    """Runs the mailtally binary to completion; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    for k in ("MAILTALLY_ACCESS_KEY_ID", "MAILTALLY_SECRET_ACCESS_KEY"):
        full_env.pop(k, None)
    if env:
        full_env.update(env)
    return subprocess.run([BIN, *with_test_database(list(args))], capture_output=True, text=True,
                          timeout=timeout, env=full_env)


# ---------------------------------------------------------------------------------------------
# The server process


class ServerProcess:
    """One `mailtally serve` process on an ephemeral port with its own data dir."""

    def __init__(self, data_dir: str, env: Optional[dict] = None, extra_args: tuple = (),
                 embedded: bool = False):
        """`embedded`: always SQLite in the data dir, also in the PostgreSQL mode of the suite."""
        self.embedded = embedded
        self.data_dir = str(data_dir)
        self.extra_env = dict(env or {})
        self.extra_args = tuple(extra_args)
        self.proc: Optional[subprocess.Popen] = None
        self.endpoint: Optional[str] = None
        self.port: Optional[int] = None
        self.key_id: Optional[str] = None
        self.secret: Optional[str] = None
        self.starts = 0
        self.lines: list[str] = []          # stdout lines of the current process
        self.all_lines: list[list[str]] = []  # stdout lines of every start, in order
        self._cond = threading.Condition()
        self._reader: Optional[threading.Thread] = None
        self._stderr_path: Optional[str] = None

    # Aliases with the AWS spellings (used by tests/test_js_sdk.py).
    @property
    def access_key_id(self) -> Optional[str]:
        return self.key_id

    @property
    def secret_access_key(self) -> Optional[str]:
        return self.secret

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> "ServerProcess":
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        assert os.path.exists(BIN), f"mailtally binary not found at {BIN} (set MAILTALLY_BIN)"
        env = dict(os.environ)
        for k in ("MAILTALLY_ACCESS_KEY_ID", "MAILTALLY_SECRET_ACCESS_KEY"):
            env.pop(k, None)
        env.update(self.extra_env)
        os.makedirs(self.data_dir, exist_ok=True)
        self.starts += 1
        self._stderr_path = os.path.join(os.path.dirname(self.data_dir.rstrip("/")) or ".",
                                         f"{os.path.basename(self.data_dir.rstrip('/'))}"
                                         f".stderr.{self.starts}.log")
        stderr = open(self._stderr_path, "wb")
        self.lines = []
        self.all_lines.append(self.lines)
        args = [BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
                *self.extra_args]
        self.proc = subprocess.Popen(
            args if self.embedded else with_test_database(args),
            stdout=subprocess.PIPE, stderr=stderr, env=env, text=True, bufsize=1)
        stderr.close()
        lines = self.lines
        proc = self.proc

        def read():
            for line in proc.stdout:
                with self._cond:
                    lines.append(line.rstrip("\n"))
                    self._cond.notify_all()
            with self._cond:
                self._cond.notify_all()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()

        deadline = time.monotonic() + START_TIMEOUT
        match = None
        with self._cond:
            while True:
                for line in lines:
                    match = LISTENING_RE.search(line)
                    if match:
                        break
                if match:
                    break
                if proc.poll() is not None:
                    raise AssertionError(
                        f"mailtally exited with {proc.returncode} before listening; stdout="
                        f"{lines!r} stderr={self.stderr_text()!r}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"mailtally did not print its listening line; "
                                         f"stdout={lines!r} stderr={self.stderr_text()!r}")
                self._cond.wait(min(remaining, 0.2))
        self.endpoint = match.group(1)
        self.port = int(match.group(2))
        for line in lines:
            m = EXPORT_RE.search(line)
            if m:
                self.key_id, self.secret = m.group(1), m.group(2)
        assert self.key_id, f"no access key known for {self.data_dir}; stdout={lines!r}"
        wait_until(lambda: self.health_status() == 200, START_TIMEOUT, what="/health 200")
        return self

    def stderr_text(self) -> str:
        try:
            with open(self._stderr_path, "r", errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> int:
        """Sends `sig` and waits for the exit; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        finally:
            if self._reader:
                self._reader.join(timeout=5)
        return rc

    def stop(self) -> Optional[int]:
        """Graceful stop (SIGTERM); returns the exit code (None if it was not running)."""
        if not self.running():
            return self.proc.returncode if self.proc else None
        return self.signal(signal.SIGTERM)

    def kill9(self) -> None:
        if self.running():
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)
        if self._reader:
            self._reader.join(timeout=5)

    def restart(self) -> "ServerProcess":
        if self.running():
            rc = self.stop()
            assert rc == 0, f"graceful stop exited with {rc}; stderr={self.stderr_text()!r}"
        return self.start()

    def close(self) -> None:
        if self.running():
            try:
                self.stop()
            except subprocess.TimeoutExpired:
                self.kill9()

    # -- plain HTTP -----------------------------------------------------------------------

    def health_status(self) -> int:
        try:
            with urllib.request.urlopen(self.endpoint + "/health", timeout=2) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 0

    # -- clients --------------------------------------------------------------------------

    def client(self, service: str, key_id: Optional[str] = None, secret: Optional[str] = None):
        return make_client(service, self.endpoint, key_id or self.key_id, secret or self.secret)

    def cli(self, *args: str, key_id: Optional[str] = None, secret: Optional[str] = None,
            timeout: float = 60):
        return run_aws_cli(self.endpoint, key_id or self.key_id, secret or self.secret, *args,
                           timeout=timeout)

    def signed(self, method: str, path: str, body: bytes | str = b"",
               headers: Optional[dict] = None, **kw) -> "RawResponse":
        kw.setdefault("key_id", self.key_id)
        kw.setdefault("secret", self.secret)
        return signed_request(self.endpoint, method, path, body, headers, **kw)

    def raw(self, method: str, path: str, body: bytes | str = b"",
            headers: Optional[dict] = None) -> "RawResponse":
        return send(self.endpoint, method, path, body, headers or {})


def make_client(service: str, endpoint: str, key_id: str, secret: str):
    # total_max_attempts=1: exactly one attempt, no retries (a retried create after a kill -9
    # would blur what was acknowledged).
    config = Config(region_name=REGION, retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=5, read_timeout=30)
    session = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                                    region_name=REGION)
    return session.client(service, endpoint_url=endpoint, config=config)


def run_aws_cli(endpoint: str, key_id: str, secret: str, *args: str, timeout: float = 60):
    """Runs the Debian AWS CLI v2; returns (returncode, parsed JSON or None, stderr)."""
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            env.pop(k)
    env.update(CLEAN_AWS_ENV)
    env.update({"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret,
                "AWS_DEFAULT_REGION": REGION})
    proc = subprocess.run(
        [AWS_CLI, "--endpoint-url", endpoint, "--region", REGION, "--output", "json", *args],
        capture_output=True, text=True, timeout=timeout, env=env)
    out = proc.stdout.strip()
    parsed = json.loads(out) if out else None
    return proc.returncode, parsed, proc.stderr


def cli_error_code(stderr: str) -> Optional[str]:
    m = re.search(r"An error occurred \(([^)]+)\)", stderr)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------------------------
# Raw HTTP and SigV4


@dataclass
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    sock_id: int = 0

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body.decode())

    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)

    def xml_error(self) -> dict:
        return parse_xml_error(self.body)

    def json_error_code(self) -> Optional[str]:
        t = self.header("x-amzn-ErrorType")
        return t.split(":")[0] if t else None


def send(endpoint: str, method: str, path: str, body: bytes | str = b"",
         headers: Optional[dict] = None, conn: Optional[http.client.HTTPConnection] = None,
         timeout: float = 30) -> RawResponse:
    if isinstance(body, str):
        body = body.encode()
    u = urllib.parse.urlsplit(endpoint)
    own = conn is None
    c = conn or http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        c.request(method, path, body=body if (body or method not in ("GET", "HEAD", "DELETE"))
                  else None, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return RawResponse(r.status, r.headers, data, id(c.sock))
    finally:
        if own:
            c.close()


class _FixedDatetime:
    """Stands in for botocore.auth's `datetime` module, to sign at a chosen time."""

    def __init__(self, when: datetime.datetime):
        when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None) \
            if when.tzinfo else when

        class _DT(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return when

        self.datetime = _DT


def sign_headers(method: str, url: str, body: bytes, headers: Optional[dict], *, key_id: str,
                 secret: str, service: str = "ses", region: str = REGION,
                 when: Optional[datetime.datetime] = None) -> dict:
    """Headers of a request signed by botocore's SigV4Auth (optionally at time `when`)."""
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer = SigV4Auth(Credentials(key_id, secret), service, region)
    if when is None:
        signer.add_auth(req)
    else:
        with mock.patch.object(botocore.auth, "datetime", _FixedDatetime(when)):
            signer.add_auth(req)
    return dict(req.headers.items())


def signed_request(endpoint: str, method: str, path: str, body: bytes | str = b"",
                   headers: Optional[dict] = None, *, key_id: str, secret: str,
                   service: str = "ses", region: str = REGION,
                   when: Optional[datetime.datetime] = None,
                   conn: Optional[http.client.HTTPConnection] = None) -> RawResponse:
    if isinstance(body, str):
        body = body.encode()
    h = sign_headers(method, endpoint + path, body, headers, key_id=key_id, secret=secret,
                     service=service, region=region, when=when)
    return send(endpoint, method, path, body, h, conn=conn)


def presigned_url(endpoint: str, method: str, path: str, *, key_id: str, secret: str,
                  service: str = "ses", region: str = REGION, expires: int = 300) -> str:
    req = AWSRequest(method=method, url=endpoint + path)
    SigV4QueryAuth(Credentials(key_id, secret), service, region, expires=expires).add_auth(req)
    return req.prepare().url


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
JSON = {"Content-Type": "application/json"}
SES_VERSION = "2010-12-01"
CW_VERSION = "2010-08-01"


def form(action: str, version: str = SES_VERSION, **params) -> str:
    """A Query-protocol form body; params use the wire names (e.g. 'ConfigurationSet.Name')."""
    items = [("Action", action), ("Version", version)]
    items += [(k.replace("__", "."), str(v)) for k, v in params.items()]
    return urllib.parse.urlencode(items)


def form_items(action: str, items: list, version: str = SES_VERSION) -> str:
    return urllib.parse.urlencode([("Action", action), ("Version", version), *items])


def parse_xml_error(body: bytes) -> dict:
    root = ET.fromstring(body)
    assert _local(root.tag) == "ErrorResponse", body
    out = {}
    for child in root:
        if _local(child.tag) == "Error":
            for e in child:
                out[_local(e.tag)] = e.text or ""
        else:
            out[_local(child.tag)] = child.text or ""
    return out


def _local(tag: str) -> str:
    return tag.split("}", 1)[-1]


def xml_find_all(root: ET.Element, name: str) -> list:
    return [e for e in root.iter() if _local(e.tag) == name]


# ---------------------------------------------------------------------------------------------
# Assertions


def error_of(fn: Callable, *args, **kwargs) -> ClientError:
    """Calls a boto3 operation that must fail; returns the ClientError."""
    try:
        result = fn(*args, **kwargs)
    except ClientError as e:
        return e
    raise AssertionError(f"expected an error, got success: {result!r}")


def assert_error(fn: Callable, code: str, status: int, *args, message_has=(), **kwargs
                 ) -> ClientError:
    e = error_of(fn, *args, **kwargs)
    got_code = e.response["Error"]["Code"]
    got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
    msg = e.response["Error"].get("Message", "")
    assert (got_code, got_status) == (code, status), \
        f"expected {code}/{status}, got {got_code}/{got_status}: {msg!r}"
    if isinstance(message_has, str):
        message_has = (message_has,)
    for part in message_has:
        assert part in msg, f"message {msg!r} does not name {part!r}"
    return e


def strip_meta(resp: dict) -> dict:
    out = dict(resp)
    out.pop("ResponseMetadata", None)
    return out


# ---------------------------------------------------------------------------------------------
# Common request shapes


def v1_cw_destination(name: str, dims=None, types=("send", "bounce"), enabled=True) -> dict:
    if dims is None:
        dims = [
            {"DimensionName": "campaign", "DimensionValueSource": "messageTag",
             "DefaultDimensionValue": "none"},
        ]
    return {"Name": name, "Enabled": enabled, "MatchingEventTypes": list(types),
            "CloudWatchDestination": {"DimensionConfigurations": list(dims)}}


def v2_cw_destination(dims=None, types=("SEND", "BOUNCE"), enabled=True) -> dict:
    if dims is None:
        dims = [
            {"DimensionName": "campaign", "DimensionValueSource": "MESSAGE_TAG",
             "DefaultDimensionValue": "none"},
        ]
    return {"Enabled": enabled, "MatchingEventTypes": list(types),
            "CloudWatchDestination": {"DimensionConfigurations": list(dims)}}


def dim(name: str, source: str = "messageTag", default: str = "none") -> dict:
    return {"DimensionName": name, "DimensionValueSource": source,
            "DefaultDimensionValue": default}


V1_TO_V2_SOURCE = {"messageTag": "MESSAGE_TAG", "emailHeader": "EMAIL_HEADER",
                   "linkTag": "LINK_TAG"}

SNS_ARN = "arn:aws:sns:us-east-1:123456789012:ses-events"
FIREHOSE_ARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/ses-events"
IAM_ROLE_ARN = "arn:aws:iam::123456789012:role/ses-firehose"
PINPOINT_ARN = "arn:aws:mobiletargeting:us-east-1:123456789012:apps/0123456789abcdef"
EVENTBUS_ARN = "arn:aws:events:us-east-1:123456789012:event-bus/default"
