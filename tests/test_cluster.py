"""Several nodes on one PostgreSQL database (docs/scale-out.md): three real mailtally processes on
loopback share a real PostgreSQL server (the suite's, or a private one started here). boto3 clients
spread a burst of sends over the nodes and one node is killed with kill -9 in the middle;
afterwards every MessageId that was returned is delivered exactly once, every event reaches the
SNS-style HTTP endpoint, the CloudWatch numbers are exact on every node, and work the dead node
held is taken over when its leases end."""
import email
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
import urllib.error
import uuid

import botocore.exceptions
import pytest

import helpers
from helpers import ServerProcess, unique, wait_until
from test_destinations import Receiver

SIM = "success@simulator.amazonses.com"
LEASE = "3"  # seconds: a dead node's claims and leases end this soon


@pytest.fixture(scope="module")
def pg_admin(tmp_path_factory):
    """The admin URL of a PostgreSQL server: the suite's (MAILTALLY_TEST_DATABASE) or our own."""
    if helpers.TEST_DATABASE:
        yield helpers.TEST_DATABASE
        return
    # Not under pytest's 0700 tmp dirs: as root the server runs as 'postgres', which must reach it.
    d = tempfile.mkdtemp(prefix="mailtally-pg-")
    script = os.path.join(helpers.REPO, "scripts", "pg-test-server.sh")
    url = subprocess.run([script, "start", str(d)], check=True, capture_output=True,
                         text=True, timeout=120).stdout.strip()
    yield url
    subprocess.run([script, "stop", str(d)], capture_output=True, timeout=60)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def database(pg_admin):
    name = "mt_cluster_" + uuid.uuid4().hex[:12]
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", pg_admin, "-c"]
    subprocess.run([*psql, f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    base = pg_admin.partition("?")[0]
    yield base[:base.rindex("/") + 1] + name
    subprocess.run([*psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True)


def start_nodes(tmp_path, database, count, extra=()):
    nodes = []
    for i in range(count):
        node = ServerProcess(tmp_path / f"node{i}", extra_args=(
            "--database", database, "--node-id", f"node{i}", "--lease-seconds", LEASE,
            "--max-send-rate", "0", "--max-24-hour-send", "0", *extra))
        # The first node creates the account's key (and prints it); the others find it in the
        # database and print nothing.
        if nodes:
            node.key_id, node.secret = nodes[0].key_id, nodes[0].secret
        node.start()
        nodes.append(node)
    return nodes


def events_of(node, **query):
    out, after = [], 0
    while True:
        q = "&".join(f"{k}={v}" for k, v in {**query, "after": after, "limit": 1000}.items())
        with urllib.request.urlopen(f"{node.endpoint}/_mailtally/events?{q}", timeout=10) as r:
            doc = json.load(r)
        out += doc["events"]
        if len(doc["events"]) < 1000:
            return out
        after = doc["events"][-1]["seq"]


def metric_sum(node, metric, cs):
    cw = node.client("cloudwatch")
    now = time.time()
    r = cw.get_metric_statistics(
        Namespace="AWS/SES", MetricName=metric,
        Dimensions=[{"Name": "ses:configuration-set", "Value": cs}],
        StartTime=now - 3600, EndTime=now + 120, Period=3600, Statistics=["Sum", "SampleCount"])
    return sum(p["Sum"] for p in r["Datapoints"])


def test_every_node_serves_the_same_account_and_sees_changes_within_a_second(tmp_path, database):
    nodes = start_nodes(tmp_path, database, 2)
    try:
        a, b = (n.client("sesv2") for n in nodes)
        cs = unique("cs")
        a.create_configuration_set(ConfigurationSetName=cs)
        t0 = time.monotonic()
        wait_until(lambda: cs in b.list_configuration_sets()["ConfigurationSets"], 1.0,
                   what="the set on the other node")
        assert time.monotonic() - t0 <= 1.0
        b.delete_configuration_set(ConfigurationSetName=cs)
        with pytest.raises(a.exceptions.NotFoundException):
            a.get_configuration_set(ConfigurationSetName=cs)
        # Templates and suppression are shared too.
        a.create_email_template(TemplateName=cs, TemplateContent={"Subject": "s", "Text": "t"})
        assert b.get_email_template(TemplateName=cs)["TemplateName"] == cs
        b.put_suppressed_destination(EmailAddress="gone@example.com", Reason="BOUNCE")
        assert a.get_suppressed_destination(
            EmailAddress="gone@example.com")["SuppressedDestination"]["Reason"] == "BOUNCE"
        # /health reports the shared database.
        with urllib.request.urlopen(f"{nodes[1].endpoint}/health", timeout=5) as r:
            health = json.load(r)
        assert health["status"] == "ok" and health["database_reachable"] is True
        assert health["database"].startswith("postgresql")
    finally:
        for n in nodes:
            n.close()


def test_tracking_links_and_smtp_passwords_work_on_every_node(tmp_path, database):
    nodes = start_nodes(tmp_path, database, 2)
    try:
        pw = [helpers.run_bin("keys", "smtp-password", nodes[0].key_id, "--database", database)
              .stdout.strip()]
        assert pw[0] and helpers.run_bin("keys", "list", "--database", database).returncode == 0
        # Both nodes sign tracking tokens with the one secret in the database: a token minted by
        # node 0 redirects on node 1.
        ses = nodes[0].client("sesv2")
        cs = unique("cs")
        ses.create_configuration_set(ConfigurationSetName=cs)
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=cs, EventDestinationName="cw", EventDestination={
                "Enabled": True, "MatchingEventTypes": ["CLICK"],
                "CloudWatchDestination": {"DimensionConfigurations": [{
                    "DimensionName": "ses:configuration-set", "DimensionValueSource": "MESSAGE_TAG",
                    "DefaultDimensionValue": "none"}]}})
        mid = ses.send_email(
            FromEmailAddress="s@example.com", Destination={"ToAddresses": ["user@example.com"]},
            ConfigurationSetName=cs,
            Content={"Simple": {"Subject": {"Data": "hi"}, "Body": {"Html": {
                "Data": '<a href="https://example.com/landing">go</a>'}}}})["MessageId"]
        raw = wait_until(lambda: _mailbox_raw(nodes[1], mid), 15, what="delivery")
        html = next(part.get_payload(decode=True).decode()
                    for part in email.message_from_bytes(raw).walk()
                    if part.get_content_type() == "text/html")
        link = html.split('href="', 1)[1].split('"', 1)[0]
        path = link[link.index("/t/c/"):]
        req = urllib.request.Request(nodes[1].endpoint + path, method="GET")
        opener = urllib.request.build_opener(_NoRedirect())
        resp = opener.open(req, timeout=5)
        assert resp.status == 302 and resp.headers["Location"] == "https://example.com/landing"
        wait_until(lambda: events_of(nodes[0], message_id=mid, type="Click"), 10, what="click")
    finally:
        for n in nodes:
            n.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def http_error_302(self, req, fp, code, msg, headers):
        return fp


def _mailbox_raw(node, message_id):
    try:
        with urllib.request.urlopen(f"{node.endpoint}/_mailtally/mailbox/{message_id}",
                                    timeout=5) as r:
            return r.read()
    except urllib.error.HTTPError:
        return None


def test_kill_9_of_a_node_during_a_burst_loses_and_duplicates_nothing(tmp_path, database):
    receiver = Receiver()
    topic = "arn:aws:sns:us-east-1:123456789012:cluster-events"
    nodes = start_nodes(tmp_path, database, 3,
                        extra=("--sns-subscriber", f"{topic}={receiver.url}/sns"))
    try:
        ses0 = nodes[0].client("ses")
        cs = unique("cs")
        ses0.create_configuration_set(ConfigurationSet={"Name": cs})
        ses0.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
            "Name": "cw", "Enabled": True, "MatchingEventTypes": ["send", "delivery"],
            "CloudWatchDestination": {"DimensionConfigurations": [{
                "DimensionName": "ses:configuration-set", "DimensionValueSource": "messageTag",
                "DefaultDimensionValue": "none"}]}})
        ses0.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
            "Name": "sns", "Enabled": True, "MatchingEventTypes": ["send", "delivery"],
            "SNSDestination": {"TopicARN": topic}})

        returned, lock = [], threading.Lock()
        victim = nodes[1]
        per_client = 150

        def burst(node_index):
            targets = [nodes[node_index]] + [n for n in nodes if n is not nodes[node_index]]
            clients = {id(n): n.client("ses") for n in targets}
            for i in range(per_client):
                for node in targets:
                    if node is victim and not victim.running():
                        continue
                    try:
                        mid = clients[id(node)].send_email(
                            Source="sender@example.com", Destination={"ToAddresses": [SIM]},
                            Message={"Subject": {"Data": f"m{i}"}, "Body": {"Text": {"Data": "x"}}},
                            ConfigurationSetName=cs)["MessageId"]
                    except Exception:  # the killed node: go on with another one
                        continue
                    with lock:
                        returned.append(mid)
                    break

        threads = [threading.Thread(target=burst, args=(i % 3,)) for i in range(6)]
        for t in threads:
            t.start()
        wait_until(lambda: len(returned) >= 200, 120, what="a third of the burst")
        victim.kill9()
        for t in threads:
            t.join(timeout=300)
        assert len(returned) == 6 * per_client
        live = [n for n in nodes if n is not victim]

        # Every returned MessageId is delivered exactly once (the victim's claims are taken over
        # once its leases end), with exactly one Send.
        def delivered():
            log = events_of(live[0], configuration_set=cs)
            by_type = {}
            for e in log:
                by_type.setdefault(e["eventType"], []).append(e["messageId"])
            return by_type if len(set(by_type.get("Delivery", [])) & set(returned)) == len(
                set(returned)) else None

        by_type = wait_until(delivered, 120, interval=0.5, what="every returned message delivered")
        sends, deliveries = by_type["Send"], by_type["Delivery"]
        assert len(sends) == len(set(sends)) and len(deliveries) == len(set(deliveries))
        assert set(returned) <= set(sends) and set(deliveries) == set(sends)
        accepted = len(sends)  # may exceed `returned`: sends the victim committed but never answered

        # Every event reached the SNS endpoint (at least once; duplicates only for a batch the
        # victim posted but had not recorded when it died).
        def notified():
            seen = {(n["mail"]["messageId"], n["eventType"]) for n in receiver.notifications()}
            return seen if len(seen) >= 2 * accepted else None

        seen = wait_until(notified, 120, interval=0.5, what="every event at the SNS endpoint")
        assert seen == {(m, t) for m in sends for t in ("Send", "Delivery")}
        assert len(receiver.notifications()) - len(seen) <= 100

        # Exact CloudWatch totals on every surviving node, whichever node handled each event.
        for node in live:
            wait_until(lambda: metric_sum(node, "Delivery", cs) == accepted, 60, interval=0.5,
                       what=f"Delivery sum on {node.endpoint}")
            assert metric_sum(node, "Send", cs) == accepted
    finally:
        for n in nodes:
            n.close()
        receiver.close()


def test_sigterm_drains_a_node_and_another_takes_over_its_dispatch(tmp_path, database):
    nodes = start_nodes(tmp_path, database, 2)
    try:
        ses = nodes[1].client("ses")
        cs = unique("cs")
        ses.create_configuration_set(ConfigurationSet={"Name": cs})
        ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
            "Name": "cw", "Enabled": True, "MatchingEventTypes": ["send"],
            "CloudWatchDestination": {"DimensionConfigurations": [{
                "DimensionName": "ses:configuration-set", "DimensionValueSource": "messageTag",
                "DefaultDimensionValue": "none"}]}})
        for _ in range(5):
            ses.send_email(Source="a@example.com", Destination={"ToAddresses": [SIM]},
                           Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "x"}}},
                           ConfigurationSetName=cs)
        wait_until(lambda: metric_sum(nodes[1], "Send", cs) == 5, 30, what="first five counted")
        assert nodes[0].stop() == 0  # graceful: leases released, not left to expire
        t0 = time.monotonic()
        for _ in range(5):
            ses.send_email(Source="a@example.com", Destination={"ToAddresses": [SIM]},
                           Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "x"}}},
                           ConfigurationSetName=cs)
        wait_until(lambda: metric_sum(nodes[1], "Send", cs) == 10, 30, what="next five counted")
        # Released leases are taken at once, not after LEASE seconds.
        assert time.monotonic() - t0 < float(LEASE) + 2
    finally:
        for n in nodes:
            n.close()


def test_copy_to_postgres_moves_a_data_dir_with_everything_in_it(tmp_path, database):
    one = ServerProcess(tmp_path / "single", embedded=True).start()
    cs = unique("cs")
    try:
        ses, sesv2 = one.client("ses"), one.client("sesv2")
        ses.create_configuration_set(ConfigurationSet={"Name": cs})
        ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
            "Name": "cw", "Enabled": True, "MatchingEventTypes": ["send", "delivery"],
            "CloudWatchDestination": {"DimensionConfigurations": [{
                "DimensionName": "ses:configuration-set", "DimensionValueSource": "messageTag",
                "DefaultDimensionValue": "none"}]}})
        sesv2.create_email_template(TemplateName=cs, TemplateContent={"Subject": "s", "Text": "t"})
        sesv2.put_suppressed_destination(EmailAddress="gone@example.com", Reason="COMPLAINT")
        sent = [ses.send_email(Source="a@example.com", Destination={"ToAddresses": [SIM]},
                               Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "x"}}},
                               ConfigurationSetName=cs)["MessageId"] for _ in range(3)]
        wait_until(lambda: metric_sum(one, "Delivery", cs) == 3, 20, what="metrics on SQLite")
        seqs = [e["seq"] for e in events_of(one, configuration_set=cs)]
    finally:
        assert one.stop() == 0

    # A server still using the target, or a target with data, is refused and nothing changes.
    r = helpers.run_bin("copy-to-postgres", "--data-dir", str(tmp_path / "nowhere"),
                        "--database", database)
    assert r.returncode != 0 and "no mailtally data dir" in r.stderr
    r = helpers.run_bin("copy-to-postgres", "--data-dir", one.data_dir, "--database", database,
                        timeout=120)
    assert r.returncode == 0, r.stderr
    assert "copied" in r.stdout and "events" in r.stdout
    again = helpers.run_bin("copy-to-postgres", "--data-dir", one.data_dir, "--database", database)
    assert again.returncode != 0 and "already holds rows" in again.stderr

    node = ServerProcess(tmp_path / "node", extra_args=("--database", database))
    node.key_id, node.secret = one.key_id, one.secret  # the copied key works on the new node
    node.start()
    try:
        assert not any("created an access key" in line for line in node.lines)
        sesv2 = node.client("sesv2")
        dests = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=cs)
        assert [d["Name"] for d in dests["EventDestinations"]] == ["cw"]
        assert sesv2.get_email_template(TemplateName=cs)["TemplateContent"]["Subject"] == "s"
        assert sesv2.get_suppressed_destination(
            EmailAddress="gone@example.com")["SuppressedDestination"]["Reason"] == "COMPLAINT"
        assert [e["seq"] for e in events_of(node, configuration_set=cs)] == seqs
        assert {e["messageId"] for e in events_of(node, configuration_set=cs)} == set(sent)
        assert metric_sum(node, "Delivery", cs) == 3  # the metrics came along
        # New events continue after the copied ones, and are counted once on top.
        node.client("ses").send_email(
            Source="a@example.com", Destination={"ToAddresses": [SIM]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "x"}}},
            ConfigurationSetName=cs)
        wait_until(lambda: metric_sum(node, "Delivery", cs) == 4, 20, what="the new delivery")
        assert min(e["seq"] for e in events_of(node, configuration_set=cs)[-2:]) > max(seqs)
    finally:
        node.close()


def test_a_database_outage_gives_503_health_and_errors_then_the_node_recovers(tmp_path):
    """The node's own PostgreSQL server is stopped and started again on the same port."""
    script = os.path.join(helpers.REPO, "scripts", "pg-test-server.sh")
    d = tempfile.mkdtemp(prefix="mailtally-pg-")
    try:
        admin = subprocess.run([script, "start", d], check=True, capture_output=True, text=True,
                               timeout=120).stdout.strip()
        port = admin.rsplit(":", 1)[1].split("/", 1)[0]
        node = ServerProcess(tmp_path / "node", extra_args=("--database", admin))
        node.start()
        try:
            ses = node.client("sesv2")
            ses.create_configuration_set(ConfigurationSetName="before")
            subprocess.run([script, "stop", d], check=True, capture_output=True, timeout=60)
            with pytest.raises(urllib.error.HTTPError) as health:
                urllib.request.urlopen(f"{node.endpoint}/health", timeout=5)
            doc = json.load(health.value)
            assert health.value.code == 503 and doc["database_reachable"] is False
            assert doc["error"]
            # API calls fail in the API's own error format; nothing is acknowledged.
            with pytest.raises(botocore.exceptions.ClientError) as err:
                ses.create_configuration_set(ConfigurationSetName="during")
            assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
            subprocess.run([script, "start", d], check=True, capture_output=True, timeout=120,
                           env={**os.environ, "PG_PORT": port})
            wait_until(lambda: node.health_status() == 200, 30, what="health back to 200")
            wait_until(lambda: _lists(ses), 30, what="API calls work again")
            names = ses.list_configuration_sets()["ConfigurationSets"]
            assert "before" in names and "during" not in names
            ses.create_configuration_set(ConfigurationSetName="after")
        finally:
            node.close()
    finally:
        subprocess.run([script, "stop", d], capture_output=True, timeout=60)
        shutil.rmtree(d, ignore_errors=True)


def _lists(ses):
    try:
        ses.list_configuration_sets()
        return True
    except botocore.exceptions.ClientError:
        return False
