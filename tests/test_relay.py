"""`mailtally serve --relay`: delivery through a real SMTP server (aiosmtpd, tests/smtp_sink.py).

Each test starts its own sink and server; the sink's answer depends on the recipient's local
part (see smtp_sink.py). Events are read from GET /_mailtally/events.
"""

from __future__ import annotations

import datetime
import subprocess
import time

import pytest

import helpers
from smtp_sink import SmtpSink, free_port

SENDER = "Sender Name <sender@example.com>"


@pytest.fixture
def sink():
    s = SmtpSink().start()
    yield s
    s.stop()


def relay_server(server_factory, url: str, *extra, data_dir=None):
    return server_factory(data_dir=data_dir, extra_args=("--relay", url, *extra))


def events(srv, message_id: str, type_: str | None = None) -> list:
    q = f"/_mailtally/events?message_id={message_id}"
    if type_:
        q += f"&type={type_}"
    r = srv.raw("GET", q)
    assert r.status == 200, r.body
    return [e["record"] for e in r.json()["events"]]


def wait_events(srv, message_id: str, type_: str, n: int = 1, timeout: float = 20) -> list:
    return helpers.wait_until(lambda: (lambda ev: ev if len(ev) >= n else None)(
        events(srv, message_id, type_)), timeout, what=f"{n} {type_} event(s) of {message_id}")


def send(srv, to: list, raw: bytes | None = None, **kw) -> str:
    v2 = srv.client("sesv2")
    if raw is not None:
        out = v2.send_email(FromEmailAddress=SENDER, Destination={"ToAddresses": to},
                            Content={"Raw": {"Data": raw}}, **kw)
    else:
        out = v2.send_email(FromEmailAddress=SENDER, Destination={"ToAddresses": to},
                            Content={"Simple": {"Subject": {"Data": "Hello relay"},
                                                "Body": {"Text": {"Data": "Body.\n.dot line"}}}},
                            **kw)
    return out["MessageId"]


def test_delivers_through_the_relay_without_ses_headers(server_factory, sink):
    srv = relay_server(server_factory, f"smtp://{sink.url_hostport}")
    v2 = srv.client("sesv2")
    set_name = helpers.unique("relay")
    v2.create_configuration_set(ConfigurationSetName=set_name)
    raw = (f"From: {SENDER}\r\nTo: ok@example.com\r\nSubject: raw via relay\r\n"
           f"X-SES-CONFIGURATION-SET: {set_name}\r\n"
           "X-SES-MESSAGE-TAGS: campaign=spring, team=growth\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhello\r\n.leading dot\r\n"
           ).encode()
    mid = send(srv, ["ok@example.com", "success@simulator.amazonses.com"], raw=raw)
    deliveries = wait_events(srv, mid, "Delivery", 2)
    assert len(sink.messages) == 1
    got = sink.messages[0]
    assert got.mail_from == "sender@example.com"
    assert got.rcpt_tos == ["ok@example.com"]  # the simulator address never leaves the host
    msg = got.message
    assert msg["X-SES-CONFIGURATION-SET"] is None and msg["X-SES-MESSAGE-TAGS"] is None
    assert msg["Message-ID"] and mid in msg["Message-ID"]
    assert msg["Subject"] == "raw via relay"
    assert b"\r\n.leading dot\r\n" in got.data  # dot-stuffing undone by the server
    by_rcpt = {d["delivery"]["recipients"][0]: d for d in deliveries}
    relayed = by_rcpt["ok@example.com"]["delivery"]
    assert relayed["smtpResponse"].startswith("250 2.0.0 Ok: queued as SINK")
    assert relayed["reportingMTA"] and relayed["processingTimeMillis"] >= 0
    tags = by_rcpt["ok@example.com"]["mail"]["tags"]
    assert tags["ses:outgoing-ip"] == ["127.0.0.1"]
    assert "ses:outgoing-tls-version" not in tags  # the sink offers no STARTTLS here
    assert tags["campaign"] == ["spring"] and tags["ses:configuration-set"] == [set_name]
    sim = by_rcpt["success@simulator.amazonses.com"]
    assert sim["delivery"]["smtpResponse"] == "250 2.6.0 Message received"
    assert sim["mail"]["tags"]["ses:outgoing-ip"] == ["127.0.0.1"]
    send_event = events(srv, mid, "Send")[0]
    assert "ses:outgoing-ip" not in send_event["mail"]["tags"]
    # Nothing went to the built-in mailbox.
    assert srv.raw("GET", "/_mailtally/mailbox?to=ok@example.com").json()["messages"] == []


def test_permanent_refusal_is_a_bounce_with_the_servers_reply(server_factory, sink):
    srv = relay_server(server_factory, f"smtp://{sink.url_hostport}")
    mid = send(srv, ["refuse-1@example.com", "fine@example.com"])
    bounce = wait_events(srv, mid, "Bounce")[0]["bounce"]
    assert bounce["bounceType"] == "Permanent" and bounce["bounceSubType"] == "General"
    [r] = bounce["bouncedRecipients"]
    assert r["emailAddress"] == "refuse-1@example.com"
    assert r["action"] == "failed" and r["status"] == "5.1.1"
    assert r["diagnosticCode"] == ("smtp; 550 5.1.1 <refuse-1@example.com>: Recipient address "
                                   "rejected: User unknown")
    assert bounce["reportingMTA"].startswith("dsn; ")
    [d] = wait_events(srv, mid, "Delivery")
    assert d["delivery"]["recipients"] == ["fine@example.com"]
    assert [m.rcpt_tos for m in sink.messages] == [["fine@example.com"]]
    time.sleep(0.5)
    assert events(srv, mid, "DeliveryDelay") == []


def test_deferral_then_transient_bounce_when_the_window_ends(server_factory, sink):
    srv = relay_server(server_factory, f"smtp://{sink.url_hostport}", "--relay-retry-window", "3",
                       "--relay-retry-initial", "0.5", "--relay-retry-max", "1")
    mid = send(srv, ["full-1@example.com"])
    delay = wait_events(srv, mid, "DeliveryDelay")[0]
    dd = delay["deliveryDelay"]
    assert dd["delayType"] == "MailboxFull"
    assert dd["delayedRecipients"] == [{
        "emailAddress": "full-1@example.com", "status": "4.2.2",
        "diagnosticCode": "smtp; 452 4.2.2 <full-1@example.com>: Mailbox full"}]
    assert dd["expirationTime"] > delay["mail"]["timestamp"]
    bounce = wait_events(srv, mid, "Bounce", timeout=15)[0]["bounce"]
    assert bounce["bounceType"] == "Transient" and bounce["bounceSubType"] == "General"
    assert bounce["bouncedRecipients"][0]["status"] == "4.2.2"
    assert sink.attempts("full-1@example.com") >= 3  # first try, retries, the last at expiry
    assert sink.messages == []
    n = sink.attempts("full-1@example.com")
    time.sleep(1.5)
    assert sink.attempts("full-1@example.com") == n  # finished: no more retries
    assert len(events(srv, mid, "Bounce")) == 1


def test_no_connection_is_a_transient_communication_failure(server_factory):
    srv = relay_server(server_factory, f"smtp://127.0.0.1:{free_port()}",
                       "--relay-retry-initial", "30")
    mid = send(srv, ["someone@example.com"])
    dd = wait_events(srv, mid, "DeliveryDelay")[0]["deliveryDelay"]
    assert dd["delayType"] == "TransientCommunicationFailure"
    [r] = dd["delayedRecipients"]
    assert r["status"] == "4.4.1" and r["diagnosticCode"].startswith("smtp; 421 4.4.1 ")
    assert events(srv, mid, "Bounce") == [] and events(srv, mid, "Delivery") == []


def test_dropped_connection_defers_and_generic_4xx_is_general(server_factory, sink):
    srv = relay_server(server_factory, f"smtp://{sink.url_hostport}", "--relay-retry-initial", "30")
    dropped = send(srv, ["drop-1@example.com"])
    dd = wait_events(srv, dropped, "DeliveryDelay")[0]["deliveryDelay"]
    assert dd["delayType"] == "TransientCommunicationFailure"
    assert "closed the connection" in dd["delayedRecipients"][0]["diagnosticCode"]
    later = send(srv, ["defer-1@example.com"])
    dd = wait_events(srv, later, "DeliveryDelay")[0]["deliveryDelay"]
    assert dd["delayType"] == "General"
    assert dd["delayedRecipients"][0]["status"] == "4.3.0"


def test_retry_after_deferral_delivers_once(server_factory, sink, tmp_path):
    sink.set_flaky_deferrals(2)
    config = tmp_path / "mailtally.toml"
    config.write_text(f'relay = "smtp://{sink.url_hostport}"\nrelay_retry_initial = 0.3\n'
                      'relay_retry_max = 0.5\n')
    srv = server_factory(extra_args=("--config", str(config)))
    mid = send(srv, ["flaky-1@example.com", "now@example.com"])
    wait_events(srv, mid, "Delivery", 2)
    delays = events(srv, mid, "DeliveryDelay")
    assert len(delays) == 2  # one per deferred attempt
    assert all(d["deliveryDelay"]["delayedRecipients"][0]["emailAddress"] == "flaky-1@example.com"
               for d in delays)
    assert sink.attempts("flaky-1@example.com") == 3
    assert sorted(r for m in sink.messages for r in m.rcpt_tos) == ["flaky-1@example.com",
                                                                    "now@example.com"]
    time.sleep(1)
    assert len(events(srv, mid, "Delivery")) == 2


def make_cert(tmp_path) -> tuple:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=sink.test", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)


def test_starttls_required_with_auth(server_factory, tmp_path):
    tls_sink = SmtpSink(tls=make_cert(tmp_path), require_starttls=True,
                        auth=("relay-user", "s3cret:pw")).start()
    try:
        srv = relay_server(server_factory,
                           f"smtp://relay-user:s3cret%3Apw@{tls_sink.url_hostport}"
                           "?starttls=required")
        mid = send(srv, ["tls@example.com"])
        [d] = wait_events(srv, mid, "Delivery")
        [got] = tls_sink.messages
        assert got.tls and got.login == "relay-user"
        tags = d["mail"]["tags"]
        assert tags["ses:outgoing-tls-version"][0].startswith("TLSv1.")
        assert tags["ses:outgoing-ip"] == ["127.0.0.1"]

        wrong = relay_server(server_factory, f"smtp://relay-user:nope@{tls_sink.url_hostport}",
                             "--relay-retry-initial", "30")
        bad = send(wrong, ["tls2@example.com"])
        dd = wait_events(wrong, bad, "DeliveryDelay")[0]["deliveryDelay"]
        assert dd["delayedRecipients"][0]["diagnosticCode"].startswith("smtp; 535")
        assert len(tls_sink.messages) == 1
    finally:
        tls_sink.stop()


def test_starttls_required_but_not_offered_defers(server_factory, sink):
    srv = relay_server(server_factory, f"smtp://{sink.url_hostport}?starttls=required",
                       "--relay-retry-initial", "30")
    mid = send(srv, ["x@example.com"])
    dd = wait_events(srv, mid, "DeliveryDelay")[0]["deliveryDelay"]
    assert "STARTTLS" in dd["delayedRecipients"][0]["diagnosticCode"]
    assert sink.messages == []


def test_kill9_while_deferred_retries_after_restart_and_delivers_once(server_factory, sink,
                                                                      tmp_path):
    sink.set_hold(True)
    data = tmp_path / "kill9"
    args = ("--relay-retry-initial", "0.5", "--relay-retry-max", "0.5")
    srv = relay_server(server_factory, f"smtp://{sink.url_hostport}", *args, data_dir=data)
    mid = send(srv, ["held@example.com"])
    wait_events(srv, mid, "DeliveryDelay")
    srv.kill9()
    sink.set_hold(False)
    again = srv.start()  # same data dir, same arguments
    wait_events(again, mid, "Delivery", timeout=20)
    time.sleep(1.5)
    assert [m.rcpt_tos for m in sink.messages] == [["held@example.com"]]
    assert len(events(again, mid, "Delivery")) == 1


def test_bad_relay_url_refuses_to_start(tmp_path):
    r = helpers.run_bin("serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                        "--relay", "http://example.com:25")
    assert r.returncode != 0
    assert "--relay" in r.stderr and "smtp://" in r.stderr


def test_relay_events_reach_cloudwatch_with_the_outgoing_ip_dimension(server_factory, sink):
    srv = relay_server(server_factory, f"smtp://{sink.url_hostport}", "--relay-retry-initial", "30")
    v2, cw = srv.client("sesv2"), srv.client("cloudwatch")
    name = helpers.unique("relaycw")
    v2.create_configuration_set(ConfigurationSetName=name)
    v2.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="cw",
        EventDestination=helpers.v2_cw_destination(
            dims=[{"DimensionName": "ses:outgoing-ip", "DimensionValueSource": "MESSAGE_TAG",
                   "DefaultDimensionValue": "none"}],
            types=("DELIVERY", "BOUNCE", "DELIVERY_DELAY")))
    send(srv, ["a@example.com", "refuse-cw@example.com", "defer-cw@example.com"],
         ConfigurationSetName=name)

    def total(metric, value):
        end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
        out = cw.get_metric_statistics(
            Namespace="AWS/SES", MetricName=metric, StartTime=end - datetime.timedelta(hours=1),
            EndTime=end, Period=3600, Statistics=["Sum"],
            Dimensions=[{"Name": "ses:outgoing-ip", "Value": value}])
        return sum(p["Sum"] for p in out["Datapoints"])

    helpers.wait_until(lambda: total("Delivery", "127.0.0.1") == 1, 15, what="Delivery metric")
    # Bounce and DeliveryDelay records carry no ses:outgoing-ip: the default value applies.
    helpers.wait_until(lambda: total("Bounce", "none") == 1, 15, what="Bounce metric")
    helpers.wait_until(lambda: total("DeliveryDelay", "none") == 1, 15, what="delay metric")


def test_tls_policy_require_never_sends_in_plain_text(server_factory, sink):
    srv = relay_server(server_factory, f"smtp://{sink.url_hostport}", "--relay-retry-initial", "30")
    v2 = srv.client("sesv2")
    name = helpers.unique("tlsreq")
    v2.create_configuration_set(ConfigurationSetName=name,
                                DeliveryOptions={"TlsPolicy": "REQUIRE"})
    strict = send(srv, ["strict@example.com"], ConfigurationSetName=name)
    relaxed = send(srv, ["relaxed@example.com"])
    dd = wait_events(srv, strict, "DeliveryDelay")[0]["deliveryDelay"]
    assert "TlsPolicy is REQUIRE" in dd["delayedRecipients"][0]["diagnosticCode"]
    wait_events(srv, relaxed, "Delivery")
    assert [m.rcpt_tos for m in sink.messages] == [["relaxed@example.com"]]


def test_silent_server_times_out_and_defers(server_factory):
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections (the kernel does) but never says a word
    try:
        port = listener.getsockname()[1]
        srv = relay_server(server_factory, f"smtp://127.0.0.1:{port}", "--relay-timeout", "0.5",
                           "--relay-retry-initial", "30")
        started = time.monotonic()
        mid = send(srv, ["silent@example.com"])
        dd = wait_events(srv, mid, "DeliveryDelay")[0]["deliveryDelay"]
        assert time.monotonic() - started < 10
        assert dd["delayType"] == "TransientCommunicationFailure"
        assert "timed out reading a reply" in dd["delayedRecipients"][0]["diagnosticCode"]
    finally:
        listener.close()
