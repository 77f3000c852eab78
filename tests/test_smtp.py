"""The SMTP submission interface (docs/smtp.md) with real clients against the real binary:
swaks (Debian), Python's smtplib, nodemailer (npm), and raw sockets for the protocol corners.
Accepted messages must go through the same pipeline as SendRawEmail: events, auto-tags and
CloudWatch metrics."""
from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import time
import urllib.parse
from email.message import EmailMessage

import pytest

import helpers
from helpers import ServerProcess, run_bin, unique, wait_until

SIM = "success@simulator.amazonses.com"
SMTP_RE = re.compile(r"SMTP listening on smtp://127\.0\.0\.1:(\d+)")
SMTPS_RE = re.compile(r"SMTP listening on smtps://127\.0\.0\.1:(\d+)")
SMTP_ARGS = ("--smtp-listen", "127.0.0.1:0", "--smtp-tls-listen", "127.0.0.1:0")
JS_DIR = os.path.join(os.path.dirname(__file__), "js")
OK_RE = re.compile(r"^250 Ok (\S+)$", re.M)


# ---------------------------------------------------------------------------------------------
# Helpers


def ses_smtp_password(secret: str, region: str = "us-east-1") -> str:
    """The SES derivation, written from its description, to check the server's independently."""
    key = ("AWS4" + secret).encode()
    for part in ("11111111", region, "ses", "aws4_request", "SendRawEmail"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return base64.b64encode(b"\x04" + key).decode()


def ports(srv: ServerProcess) -> tuple[int, int]:
    text = "\n".join(srv.lines)
    plain = SMTP_RE.search(text)
    tls = SMTPS_RE.search(text)
    return (int(plain.group(1)) if plain else 0, int(tls.group(1)) if tls else 0)


def password_of(srv: ServerProcess) -> str:
    out = run_bin("keys", "smtp-password", srv.key_id, "--data-dir", srv.data_dir)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def insecure_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def events(srv: ServerProcess, **params) -> list:
    q = urllib.parse.urlencode({"limit": 1000, **params})
    r = srv.raw("GET", f"/_mailtally/events?{q}")
    assert r.status == 200, r.body
    return r.json()["events"]


def mailbox(srv: ServerProcess, to: str) -> list:
    r = srv.raw("GET", "/_mailtally/mailbox?" + urllib.parse.urlencode({"to": to}))
    assert r.status == 200, r.body
    return r.json()["messages"]


def message(sender="sender@example.com", to=SIM, subject="smtp test", headers=(), body="Hi.\n"):
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    for k, v in headers:
        m[k] = v
    m.set_content(body)
    return m


class Raw:
    """A line-level SMTP client on a socket, for what library clients do not send."""

    def __init__(self, port: int, implicit_tls: bool = False, timeout: float = 10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if implicit_tls:
            self.sock = insecure_context().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")
        self.greeting = self.reply()

    def reply(self) -> tuple[int, str]:
        """One (possibly multi-line) reply: (code, text of all lines joined by newlines)."""
        lines = []
        while True:
            line = self.f.readline(100000)
            if not line:
                raise ConnectionError("connection closed; got " + repr(lines))
            line = line.decode().rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), "\n".join(lines)

    def send(self, data: bytes | str):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def cmd(self, line: str) -> tuple[int, str]:
        self.send(line + "\r\n")
        return self.reply()

    def starttls(self):
        code, text = self.cmd("STARTTLS")
        assert code == 220, text
        self.sock = insecure_context().wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")
        return self.cmd("EHLO raw.example")

    def login(self, user: str, password: str):
        token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        return self.cmd("AUTH PLAIN " + token)

    def closed_by_server(self) -> bool:
        try:
            return self.f.readline() == b""
        except (ConnectionError, ssl.SSLError, OSError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def authed(srv: ServerProcess) -> Raw:
    port, _ = ports(srv)
    c = Raw(port)
    c.cmd("EHLO raw.example")
    c.starttls()
    code, text = c.login(srv.key_id, password_of(srv))
    assert code == 235, text
    return c


def smtplib_client(srv: ServerProcess) -> smtplib.SMTP:
    port, _ = ports(srv)
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.starttls(context=insecure_context())
    s.login(srv.key_id, password_of(srv))
    return s


def data_reply_id(s: smtplib.SMTP, msg: EmailMessage, sender: str, rcpts: list[str]) -> str:
    """Sends one transaction step by step and returns the MessageId of the 250 reply."""
    code, resp = s.mail(sender)
    assert code == 250, resp
    for r in rcpts:
        code, resp = s.rcpt(r)
        assert code == 250, resp
    code, resp = s.data(msg.as_bytes())
    assert code == 250, resp
    m = re.fullmatch(rb"Ok (\S+)", resp)
    assert m, resp
    return m.group(1).decode()


def cw_total(cloudwatch, metric: str, dims: dict) -> float:
    now = datetime.datetime.now(datetime.timezone.utc)
    out = cloudwatch.get_metric_statistics(
        Namespace="AWS/SES", MetricName=metric, StartTime=now - datetime.timedelta(hours=1),
        EndTime=now + datetime.timedelta(hours=1), Period=7200, Statistics=["Sum"],
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()])
    return sum(p["Sum"] for p in out["Datapoints"])


def with_destination(ses, dims=(("campaign", "messageTag", "none"),)) -> str:
    cs = unique("smtp")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
        "Name": "cw", "Enabled": True, "MatchingEventTypes": ["send", "delivery"],
        "CloudWatchDestination": {"DimensionConfigurations": [
            {"DimensionName": n, "DimensionValueSource": s, "DefaultDimensionValue": d}
            for n, s, d in dims]}})
    return cs


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("smtp") / "data", extra_args=SMTP_ARGS).start()
    yield s
    s.close()


@pytest.fixture(scope="module")
def ses(srv):
    return srv.client("ses")


@pytest.fixture(scope="module")
def cloudwatch(srv):
    return srv.client("cloudwatch")


@pytest.fixture(scope="module")
def node_modules():
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the nodemailer tests")
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "nodemailer")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True,
                       stdout=subprocess.DEVNULL)
    return JS_DIR


def swaks(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    assert shutil.which("swaks"), "swaks (Debian package swaks) is required"
    return subprocess.run(["swaks", "--hide-informational", *args], capture_output=True,
                          text=True, timeout=timeout)


def nodemailer(job: dict) -> dict:
    out = subprocess.run(["node", "smtp_send.mjs", json.dumps(job)], cwd=JS_DIR,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# Credentials


def test_smtp_password_is_the_ses_derivation(srv):
    assert password_of(srv) == ses_smtp_password(srv.secret)
    other = run_bin("keys", "smtp-password", srv.key_id, "--data-dir", srv.data_dir,
                    "--region", "eu-west-1")
    assert other.returncode == 0 and other.stdout.strip() == ses_smtp_password(srv.secret,
                                                                               "eu-west-1")
    missing = run_bin("keys", "smtp-password", "MTLYNOSUCHKEY0000000", "--data-dir", srv.data_dir)
    assert missing.returncode == 1 and "no access key" in missing.stderr


def test_region_setting_changes_the_accepted_password(server_factory):
    s = server_factory(extra_args=SMTP_ARGS + ("--region", "eu-west-1"))
    port, _ = ports(s)
    c = Raw(port)
    c.cmd("EHLO x")
    c.starttls()
    assert c.login(s.key_id, ses_smtp_password(s.secret, "us-east-1"))[0] == 535
    assert c.login(s.key_id, ses_smtp_password(s.secret, "eu-west-1"))[0] == 235
    c.close()


# ---------------------------------------------------------------------------------------------
# The "done means": swaks with the guide's headers gives Send and Delivery metrics


def test_swaks_starttls_headers_give_send_and_delivery_metrics(srv, ses, cloudwatch):
    ses.verify_email_identity(EmailAddress="sender@example.com")
    cs = with_destination(ses)
    port, _ = ports(srv)
    out = swaks("--server", f"127.0.0.1:{port}", "--tls", "--auth-user", srv.key_id,
                "--auth-password", password_of(srv), "--from", "sender@example.com",
                "--header", f"X-SES-CONFIGURATION-SET: {cs}",
                "--header", "X-SES-MESSAGE-TAGS: campaign=book", "--to", SIM)
    assert out.returncode == 0, out.stdout + out.stderr
    ids = re.findall(r"<~  250 Ok (\S+)", out.stdout)
    assert len(ids) == 1, out.stdout
    wait_until(lambda: cw_total(cloudwatch, "Send", {"campaign": "book"}) == 1, 10,
               what="Send campaign=book")
    wait_until(lambda: cw_total(cloudwatch, "Delivery", {"campaign": "book"}) == 1, 10,
               what="Delivery campaign=book")
    evs = events(srv, message_id=ids[0])
    assert [e["eventType"] for e in evs] == ["Send", "Delivery"]
    mail = evs[0]["record"]["mail"]
    assert mail["tags"]["ses:operation"] == ["SendSmtpEmail"]
    assert mail["tags"]["ses:source-tls-version"] == ["TLSv1.3"]
    assert mail["tags"]["ses:configuration-set"] == [cs]
    assert mail["tags"]["ses:caller-identity"] == ["default"]
    assert mail["tags"]["ses:source-ip"] == ["127.0.0.1"]
    assert mail["tags"]["campaign"] == ["book"]
    assert evs[0]["configurationSet"] == cs


def test_swaks_implicit_tls_and_pipelining(srv):
    _, tls_port = ports(srv)
    rcpt = f"{unique('swaks')}@example.com"
    out = swaks("--server", f"127.0.0.1:{tls_port}", "--tlsc", "--pipeline", "--auth", "PLAIN",
                "--auth-user", srv.key_id, "--auth-password", password_of(srv),
                "--from", "sender@example.com", "--to", rcpt)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "250 Ok " in out.stdout
    wait_until(lambda: mailbox(srv, rcpt), 10, what="mailbox delivery")


def test_swaks_wrong_password_fails_with_535(srv):
    port, _ = ports(srv)
    out = swaks("--server", f"127.0.0.1:{port}", "--tls", "--auth-user", srv.key_id,
                "--auth-password", "not-the-password", "--from", "sender@example.com",
                "--to", SIM)
    assert out.returncode != 0
    assert "535 5.7.8 Authentication credentials invalid" in out.stdout


# ---------------------------------------------------------------------------------------------
# smtplib


def test_smtplib_starttls_login_and_send(srv):
    s = smtplib_client(srv)
    rcpt = f"{unique('lib')}@example.com"
    msg = message(to=rcpt, body="line one\n.line starting with a dot\n")
    mid = data_reply_id(s, msg, "sender@example.com", [rcpt])
    s.quit()
    send = events(srv, message_id=mid, type="Send")
    assert len(send) == 1
    assert send[0]["record"]["mail"]["destination"] == [rcpt]
    assert send[0]["record"]["mail"]["source"] == "sender@example.com"
    got = wait_until(lambda: mailbox(srv, rcpt), 10, what="mailbox delivery")
    raw = srv.raw("GET", f"/_mailtally/mailbox/{got[0]['messageId']}").body
    # Dot-stuffing was undone; SES's Message-ID was set.
    assert b"\r\n.line starting with a dot" in raw or b"\n.line starting with a dot" in raw
    assert f"<{mid}@email.amazonses.com>".encode() in raw


def test_smtplib_auth_login_mechanism(srv):
    port, _ = ports(srv)
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.starttls(context=insecure_context())
    s.ehlo()
    assert "LOGIN" in s.esmtp_features["auth"].split()
    s.user, s.password = srv.key_id, password_of(srv)  # read by auth_login
    code, resp = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
    assert code == 235, resp
    s.quit()


def test_smtplib_wrong_password_and_failure_cap(srv):
    port, _ = ports(srv)
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.starttls(context=insecure_context())
    s.ehlo()
    s.user, s.password = srv.key_id, "wrong"
    for _ in range(2):
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            s.auth("PLAIN", s.auth_plain)
        assert e.value.smtp_code == 535
        assert e.value.smtp_error == b"5.7.8 Authentication credentials invalid"
    # The third failure of the session closes it.
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        s.auth("PLAIN", s.auth_plain)
    assert e.value.smtp_code == 421
    with pytest.raises(smtplib.SMTPServerDisconnected):
        s.noop()


def test_smtplib_implicit_tls(srv):
    _, tls_port = ports(srv)
    s = smtplib.SMTP_SSL("127.0.0.1", tls_port, timeout=30, context=insecure_context())
    s.ehlo()
    assert "starttls" not in s.esmtp_features
    s.login(srv.key_id, password_of(srv))
    mid = data_reply_id(s, message(), "sender@example.com", [SIM])
    s.quit()
    tags = events(srv, message_id=mid, type="Send")[0]["record"]["mail"]["tags"]
    assert tags["ses:source-tls-version"][0] in ("TLSv1.2", "TLSv1.3")


def test_unknown_configuration_set_is_554_and_nothing_sent(srv):
    s = smtplib_client(srv)
    before = len(events(srv))
    s.mail("sender@example.com")
    s.rcpt(SIM)
    code, resp = s.data(message(headers=[("X-SES-CONFIGURATION-SET", "no-such-set")]).as_bytes())
    assert code == 554
    assert resp.startswith(b"5.3.0 Configuration set does not exist") and b"no-such-set" in resp
    # The session goes on.
    assert s.noop()[0] == 250
    s.quit()
    assert len(events(srv)) == before


def test_too_many_recipients(srv):
    s = smtplib_client(srv)
    rcpts = [f"r{i}-{unique('many')}@example.com" for i in range(51)]
    refused = s.sendmail("sender@example.com", rcpts, message(to=rcpts[0]).as_bytes())
    s.quit()
    assert list(refused) == [rcpts[50]]
    code, text = refused[rcpts[50]]
    assert code == 452 and text.startswith(b"4.5.3")
    wait_until(lambda: mailbox(srv, rcpts[49]), 10, what="delivery to recipient 50")
    assert mailbox(srv, rcpts[50]) == []


def test_oversize_declared_and_actual(srv):
    big = b"x" * 1000 + b"\r\n"
    body = b"From: sender@example.com\r\nSubject: big\r\n\r\n" + big * 42000  # > 40 MiB
    s = smtplib_client(srv)
    rcpt = f"{unique('big')}@example.com"
    # smtplib declares SIZE=... on MAIL FROM because the server advertises SIZE.
    assert s.esmtp_features["size"] == str(40 * 1024 * 1024)
    with pytest.raises(smtplib.SMTPSenderRefused) as e:
        s.sendmail("sender@example.com", [rcpt], body)
    assert e.value.smtp_code == 552
    s.rset()
    # Without SIZE the server reads the message to its end and then refuses it.
    s.mail("sender@example.com")
    s.rcpt(rcpt)
    code, resp = s.data(body)
    assert code == 552 and resp.startswith(b"5.3.4")
    assert s.noop()[0] == 250
    s.quit()
    time.sleep(0.3)
    assert mailbox(srv, rcpt) == []


# ---------------------------------------------------------------------------------------------
# Raw protocol: refusals, pipelining, malformed commands, dropped connections


def test_no_auth_before_starttls_and_no_relay_without_auth(srv):
    port, _ = ports(srv)
    c = Raw(port)
    assert c.greeting[0] == 220
    code, ehlo = c.cmd("EHLO raw.example")
    assert code == 250 and "STARTTLS" in ehlo and "AUTH" not in ehlo
    assert "CHUNKING" not in ehlo
    for line in ("250-SIZE 41943040", "250-8BITMIME", "250-PIPELINING",
                 "250-ENHANCEDSTATUSCODES"):
        assert line in ehlo
    assert c.login(srv.key_id, password_of(srv)) == (530, "530 5.7.0 Must issue a STARTTLS "
                                                          "command first")
    # An open relay attempt: plain text, then over TLS without AUTH.
    assert c.cmd("MAIL FROM:<spammer@example.com>")[0] == 530
    code, ehlo = c.starttls()
    assert "AUTH PLAIN LOGIN" in ehlo and "STARTTLS" not in ehlo
    before = len(events(srv))
    assert c.cmd("MAIL FROM:<spammer@example.com>") == (530, "530 5.7.0 Authentication required")
    assert c.cmd("RCPT TO:<victim@example.org>")[0] == 503
    assert c.cmd("DATA")[0] == 503
    c.close()
    assert len(events(srv)) == before


def test_plain_text_auth_on_loopback_when_allowed(server_factory):
    s = server_factory(extra_args=SMTP_ARGS + ("--smtp-allow-plain-auth-on-loopback",))
    port, _ = ports(s)
    c = Raw(port)
    code, ehlo = c.cmd("EHLO x")
    assert "AUTH PLAIN LOGIN" in ehlo and "STARTTLS" in ehlo
    assert c.login(s.key_id, password_of(s))[0] == 235
    assert c.cmd("MAIL FROM:<sender@example.com>")[0] == 250
    assert c.cmd(f"RCPT TO:<{SIM}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send("Subject: plain\r\n\r\nhello\r\n.\r\n")
    code, text = c.reply()
    assert code == 250
    mid = text.split()[-1]
    c.close()
    tags = events(s, message_id=mid, type="Send")[0]["record"]["mail"]["tags"]
    assert "ses:source-tls-version" not in tags


def test_pipelined_transactions_in_one_write(srv):
    c = authed(srv)
    r1, r2 = f"{unique('p1')}@example.com", f"{unique('p2')}@example.com"
    batch = (f"MAIL FROM:<sender@example.com>\r\nRCPT TO:<{r1}>\r\nRCPT TO:<{r2}>\r\nDATA\r\n"
             "Subject: pipelined\r\n\r\none\r\n.\r\n"
             f"MAIL FROM:<sender@example.com>\r\nRCPT TO:<{r1}>\r\nDATA\r\n"
             "Subject: pipelined 2\r\n\r\ntwo\r\n.\r\nQUIT\r\n")
    c.send(batch)
    codes = [c.reply()[0] for _ in range(9)]
    assert codes == [250, 250, 250, 354, 250, 250, 250, 354, 250]
    assert c.reply()[0] == 221
    c.close()
    wait_until(lambda: len(mailbox(srv, r1)) == 2 and len(mailbox(srv, r2)) == 1, 10,
               what="both pipelined messages delivered")


def test_malformed_and_other_commands(srv):
    port, _ = ports(srv)
    c = Raw(port)
    assert c.cmd("FROB")[1] == "500 5.5.2 Syntax error, command unrecognized"
    assert c.cmd("EHLO")[1] == "501 5.5.4 Syntax: EHLO hostname"
    assert c.cmd("MAIL FROM:<a@example.com>")[1] == "503 5.5.1 Send EHLO/HELO first"
    c.cmd("EHLO raw.example")
    c.starttls()
    c.login(srv.key_id, password_of(srv))
    assert c.cmd("MAIL TO:<a@example.com>")[1] == "501 5.5.4 Syntax: MAIL FROM:<address>"
    assert c.cmd("MAIL FROM:<broken")[0] == 501
    assert c.cmd("RCPT TO:<a@example.com>")[1] == "503 5.5.1 Need MAIL before RCPT"
    assert c.cmd("MAIL FROM:<sender@example.com> SMTPUTF8")[0] == 555
    assert c.cmd("VRFY someone")[0] == 252
    assert c.cmd("EXPN list")[0] == 502
    assert c.cmd("BDAT 3 LAST")[0] == 502
    assert c.cmd("HELP")[0] == 214
    assert c.cmd("NOOP") == (250, "250 2.0.0 Ok")
    assert c.cmd("NOOP " + "x" * 1200) == (500, "500 5.5.2 Line too long")
    assert c.cmd("RSET") == (250, "250 2.0.0 Ok")
    assert c.cmd("AUTH PLAIN abc")[1] == "503 5.5.1 Already authenticated"
    assert c.cmd("QUIT") == (221, "221 2.0.0 Bye")
    assert c.closed_by_server()


def test_too_many_errors_close_the_session(srv):
    port, _ = ports(srv)
    c = Raw(port)
    c.send("BAD\r\n" * 20)
    codes = [c.reply()[0] for _ in range(21)]
    assert codes == [500] * 20 + [421]
    assert c.closed_by_server()


def test_connection_dropped_mid_data_sends_nothing(srv):
    rcpt = f"{unique('drop')}@example.com"
    c = authed(srv)
    assert c.cmd("MAIL FROM:<sender@example.com>")[0] == 250
    assert c.cmd(f"RCPT TO:<{rcpt}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send("Subject: half\r\n\r\nthe first half of a message\r\n")
    c.sock.close()
    # A complete message on a new connection afterwards shows the server moved on.
    s = smtplib_client(srv)
    marker = f"{unique('after')}@example.com"
    data_reply_id(s, message(to=marker), "sender@example.com", [marker])
    s.quit()
    wait_until(lambda: mailbox(srv, marker), 10, what="the later message")
    wait_until(lambda: srv.raw("GET", "/health").status == 200, 5)
    assert mailbox(srv, rcpt) == []
    assert all(rcpt not in e["record"]["mail"]["destination"] for e in events(srv))


def test_http_request_to_the_smtp_port_is_closed(srv):
    port, _ = ports(srv)
    c = Raw(port)
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.reply()[0] == 421
    assert c.closed_by_server()


# ---------------------------------------------------------------------------------------------
# nodemailer


def test_nodemailer_starttls_and_implicit_tls(srv, ses, cloudwatch, node_modules):
    cs = with_destination(ses, dims=(("ses:operation", "messageTag", "none"),
                                     ("ses:configuration-set", "messageTag", "none")))
    port, tls_port = ports(srv)
    job = {"host": "127.0.0.1", "user": srv.key_id, "pass": password_of(srv),
           "from": "Sender <sender@example.com>", "to": SIM,
           "headers": {"X-SES-CONFIGURATION-SET": cs, "X-SES-MESSAGE-TAGS": "via=nodemailer"}}
    plain = nodemailer({**job, "port": port, "secure": False, "count": 3, "pool": True})
    assert "ok" in plain, plain
    implicit = nodemailer({**job, "port": tls_port, "secure": True})
    assert "ok" in implicit, implicit
    results = plain["ok"] + implicit["ok"]
    for r in results:
        assert re.fullmatch(r"250 Ok \S+", r["response"]), r
        assert r["accepted"] == [SIM]
    dims = {"ses:operation": "SendSmtpEmail", "ses:configuration-set": cs}
    wait_until(lambda: cw_total(cloudwatch, "Send", dims) == 4, 10, what="4 Send datapoints")
    wait_until(lambda: cw_total(cloudwatch, "Delivery", dims) == 4, 10, what="4 Deliveries")
    mid = results[0]["response"].split()[-1]
    tags = events(srv, message_id=mid, type="Send")[0]["record"]["mail"]["tags"]
    assert tags["via"] == ["nodemailer"]


def test_nodemailer_wrong_password(srv, node_modules):
    port, _ = ports(srv)
    out = nodemailer({"host": "127.0.0.1", "port": port, "secure": False, "user": srv.key_id,
                      "pass": "wrong", "from": "sender@example.com", "to": SIM})
    assert out["error"]["code"] == "EAUTH", out
    assert out["error"]["responseCode"] == 535


# ---------------------------------------------------------------------------------------------
# Durability, limits, timeouts, TLS files, stop


def test_250_means_durable_across_kill_9(server_factory):
    s = server_factory(extra_args=SMTP_ARGS)
    c = smtplib_client(s)
    mid = data_reply_id(c, message(), "sender@example.com", [SIM])
    s.kill9()
    s.start()
    assert [e["eventType"] for e in events(s, message_id=mid)][:1] == ["Send"]


def write_config(tmp_path, text: str) -> str:
    p = tmp_path / "mailtally.toml"
    p.write_text(text)
    return str(p)


def test_session_cap_and_timeouts_from_config(server_factory, tmp_path):
    cfg = write_config(tmp_path, 'smtp_listen = "127.0.0.1:0"\n'
                                 "smtp_max_sessions = 2\n"
                                 "smtp_idle_timeout_seconds = 1.5\n"
                                 "smtp_command_timeout_seconds = 1\n")
    s = server_factory(extra_args=("--config", cfg))
    port, tls_port = ports(s)
    assert port and not tls_port
    a, b = Raw(port), Raw(port)
    assert a.greeting[0] == 220 and b.greeting[0] == 220
    third = Raw(port)
    assert third.greeting == (421, "421 4.3.2 Too many connections, try again later")
    assert third.closed_by_server()
    # Idle: no bytes for 1.5 s.
    t0 = time.monotonic()
    code, text = a.reply()
    assert code == 421 and "4.4.2" in text, text
    assert 1.0 < time.monotonic() - t0 < 5
    assert a.closed_by_server() and b.reply()[0] == 421
    b = Raw(port)
    # A command line dribbled out byte by byte is cut after the command timeout (1 s), though
    # bytes keep coming well within the idle timeout.
    b.cmd("NOOP")
    t0 = time.monotonic()
    closed = False
    for ch in "NOOP" + "x" * 20:
        try:
            b.send(ch)
        except OSError:
            closed = True
            break
        time.sleep(0.2)
        if time.monotonic() - t0 > 3:
            break
    code, text = b.reply()
    assert code == 421 and "4.4.2" in text, text
    assert time.monotonic() - t0 < 3.5
    # Sessions were released: a new one is served.
    wait_until(lambda: Raw(port).greeting[0] == 220, 5, what="a free session slot")


def test_self_signed_certificate_is_created_once_and_verifies(server_factory):
    s = server_factory(extra_args=SMTP_ARGS)
    cert = os.path.join(s.data_dir, "smtp-tls-cert.pem")
    key = os.path.join(s.data_dir, "smtp-tls-key.pem")
    assert os.stat(key).st_mode & 0o077 == 0
    first = open(cert).read()
    s.restart()
    assert open(cert).read() == first
    # It verifies as the certificate of 127.0.0.1 / localhost for a client that trusts it.
    ctx = ssl.create_default_context(cafile=cert)
    _, tls_port = ports(s)
    with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as t:
            assert t.version() in ("TLSv1.2", "TLSv1.3")
            assert t.recv(100).startswith(b"220 ")


def test_configured_certificate(server_factory, tmp_path):
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is needed to make a test certificate")
    cert, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days",
                    "2", "-subj", "/CN=configured.test", "-addext",
                    "subjectAltName=DNS:configured.test"], check=True, capture_output=True)
    s = server_factory(extra_args=SMTP_ARGS + ("--smtp-tls-cert", cert, "--smtp-tls-key", key,
                                               "--smtp-hostname", "mx.configured.test"))
    assert not os.path.exists(os.path.join(s.data_dir, "smtp-tls-cert.pem"))
    _, tls_port = ports(s)
    ctx = ssl.create_default_context(cafile=cert)
    with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="configured.test") as t:
            assert t.recv(100) == b"220 mx.configured.test ESMTP mailtally\r\n"


def test_bad_certificate_configuration_fails_start(server_factory, tmp_path):
    s = server_factory(extra_args=SMTP_ARGS + ("--smtp-tls-cert", str(tmp_path / "none.pem"),
                                               "--smtp-tls-key", str(tmp_path / "none.key")),
                       start=False)
    with pytest.raises(AssertionError, match="exited"):
        s.start()
    assert "certificate" in s.stderr_text()


def test_graceful_stop_says_421_to_idle_sessions(server_factory):
    s = server_factory(extra_args=SMTP_ARGS)
    port, _ = ports(s)
    c = Raw(port)
    c.cmd("EHLO x")
    s.proc.send_signal(signal.SIGTERM)
    assert c.reply() == (421, "421 4.3.2 Service shutting down, closing connection")
    assert s.proc.wait(timeout=15) == 0


def test_bad_smtp_settings_are_refused(tmp_path):
    out = run_bin("serve", "--data-dir", str(tmp_path / "d1"), "--smtp-listen", "no-port")
    assert out.returncode == 2 and "--smtp-listen must be HOST:PORT" in out.stderr
    cfg = write_config(tmp_path, 'smtp_listen = "127.0.0.1:0"\nsmtp_max_sessions = "many"\n')
    out = run_bin("serve", "--data-dir", str(tmp_path / "d2"), "--config", cfg)
    assert out.returncode == 1
    assert "smtp_max_sessions must be a non-negative integer" in out.stderr
    cfg = write_config(tmp_path, "smtp_listne = \"127.0.0.1:0\"\n")
    out = run_bin("serve", "--data-dir", str(tmp_path / "d3"), "--config", cfg)
    assert out.returncode == 1 and "unknown key 'smtp_listne'" in out.stderr


def test_sandbox_identity_check_applies_to_smtp(server_factory):
    s = server_factory(extra_args=SMTP_ARGS + ("--sandbox",))
    c = smtplib_client(s)
    c.mail("unverified@example.com")
    c.rcpt(SIM)
    code, resp = c.data(message(sender="unverified@example.com").as_bytes())
    assert code == 554
    assert resp.startswith(b"5.7.1 Message rejected: Email address is not verified.")
    assert events(s) == []
    s.client("ses").verify_email_identity(EmailAddress="verified@example.com")
    mid = data_reply_id(c, message(sender="verified@example.com"), "verified@example.com", [SIM])
    c.quit()
    assert [e["eventType"] for e in events(s, message_id=mid)][:1] == ["Send"]
