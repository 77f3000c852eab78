"""SNS, Kinesis Firehose and EventBridge event destinations, end to end: a real HTTP endpoint
started here is subscribed with the AWS CLI and boto3 through mailtally's SNS subset; sends through
a configuration set reach it as signed SNS notifications, in log order, at least once, retried
while the endpoint fails (docs/destinations.md)."""
import base64
import http.server
import json
import os
import threading
import time
import urllib.parse
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from helpers import cli_error_code, unique, wait_until

SIM = "success@simulator.amazonses.com"
BOUNCE = "bounce@simulator.amazonses.com"
ROLE = "arn:aws:iam::123456789012:role/firehose"


class Receiver:
    """A real HTTP endpoint: records every POST; answers 500 to the first `fail_first` of them
    (or to all while `failing` is set)."""

    def __init__(self, fail_first=0):
        self.posts = []
        self.fail_first = fail_first
        self.failing = False
        self.attempts = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.attempts += 1
                    fail = receiver.failing or receiver.attempts <= receiver.fail_first
                    if not fail:
                        receiver.posts.append({"path": self.path, "headers": dict(self.headers),
                                               "body": body})
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self, kind=None):
        with self.lock:
            out = [json.loads(p["body"]) for p in self.posts]
        return [b for b in out if kind is None or b.get("Type") == kind]

    def notifications(self):
        return [json.loads(b["Message"]) for b in self.bodies("Notification")]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def send(ses, cs, to=SIM, tags=(("campaign", "spring"),)):
    return ses.send_email(Source="sender@example.com", Destination={"ToAddresses": [to]},
                          Message={"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "x"}}},
                          Tags=[{"Name": k, "Value": v} for k, v in tags],
                          ConfigurationSetName=cs)["MessageId"]


def sns_destination(ses, cs, topic, name="sns", types=("send", "delivery"), enabled=True):
    ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
        "Name": name, "Enabled": enabled, "MatchingEventTypes": list(types),
        "SNSDestination": {"TopicARN": topic}})


def logged_records(server, message_id):
    with urllib.request.urlopen(
            f"{server.endpoint}/_mailtally/events?message_id={message_id}", timeout=5) as r:
        doc = json.load(r)
    events = doc["events"] if isinstance(doc, dict) else doc
    return [e["record"] if isinstance(e["record"], dict) else json.loads(e["record"])
            for e in events]


def topic_with_subscriber(server, url):
    sns = server.client("sns")
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url + "/sns")
    return topic


def verify_signature(server, body):
    """Checks the SignatureVersion 1 signature with the certificate at SigningCertURL."""
    assert body["SigningCertURL"].startswith(server.endpoint)
    with urllib.request.urlopen(body["SigningCertURL"], timeout=5) as r:
        cert = x509.load_pem_x509_certificate(r.read())
    fields = (["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
              if body["Type"] == "SubscriptionConfirmation"
              else ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"])
    text = "".join(f"{k}\n{body[k]}\n" for k in fields if k in body)
    cert.public_key().verify(base64.b64decode(body["Signature"]), text.encode(),
                             padding.PKCS1v15(), hashes.SHA1())


def test_subscribe_with_the_cli_confirms_and_lists(server, receiver):
    name = unique("cli-topic")
    rc, out, err = server.cli("sns", "create-topic", "--name", name)
    assert rc == 0, err
    topic = out["TopicArn"]
    assert topic == f"arn:aws:sns:us-east-1:123456789012:{name}"
    rc, again, err = server.cli("sns", "create-topic", "--name", name)
    assert rc == 0 and again["TopicArn"] == topic  # idempotent
    rc, out, err = server.cli("sns", "subscribe", "--topic-arn", topic, "--protocol", "http",
                              "--notification-endpoint", receiver.url + "/hook")
    assert rc == 0, err
    sub = out["SubscriptionArn"]
    assert sub.startswith(topic + ":")

    wait_until(lambda: receiver.bodies("SubscriptionConfirmation"), 10, what="confirmation")
    post = receiver.posts[0]
    assert post["path"] == "/hook"
    assert post["headers"]["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert post["headers"]["x-amz-sns-topic-arn"] == topic
    assert post["headers"]["Content-Type"].startswith("text/plain")
    conf = receiver.bodies("SubscriptionConfirmation")[0]
    assert conf["TopicArn"] == topic and conf["Token"]
    verify_signature(server, conf)
    with urllib.request.urlopen(conf["SubscribeURL"], timeout=5) as r:  # the link works
        assert r.status == 200
        assert sub.encode() in r.read()
    rc, out, err = server.cli("sns", "confirm-subscription", "--topic-arn", topic, "--token",
                              conf["Token"])
    assert rc == 0 and out["SubscriptionArn"] == sub, err
    rc, out, err = server.cli("sns", "confirm-subscription", "--topic-arn", topic, "--token",
                              "forged")
    assert rc != 0 and cli_error_code(err) == "InvalidParameter"

    rc, out, err = server.cli("sns", "list-subscriptions-by-topic", "--topic-arn", topic)
    assert rc == 0, err
    assert out["Subscriptions"] == [{"SubscriptionArn": sub, "Owner": "123456789012",
                                     "Protocol": "http", "Endpoint": receiver.url + "/hook",
                                     "TopicArn": topic}]
    rc, out, err = server.cli("sns", "list-topics")
    assert rc == 0 and {"TopicArn": topic} in out["Topics"]
    rc, out, err = server.cli("sns", "get-topic-attributes", "--topic-arn", topic)
    assert rc == 0, err
    assert out["Attributes"]["SubscriptionsConfirmed"] == "1"
    assert out["Attributes"]["TopicArn"] == topic

    rc, out, err = server.cli("sns", "unsubscribe", "--subscription-arn", sub)
    assert rc == 0, err
    rc, out, err = server.cli("sns", "list-subscriptions")
    assert rc == 0 and all(s["SubscriptionArn"] != sub for s in out["Subscriptions"])
    rc, out, err = server.cli("sns", "delete-topic", "--topic-arn", topic)
    assert rc == 0, err
    rc, out, err = server.cli("sns", "get-topic-attributes", "--topic-arn", topic)
    assert rc != 0 and cli_error_code(err) == "NotFound"


def test_sns_errors_and_unimplemented_operations(server):
    sns = server.client("sns")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.create_topic(Name="bad name!")
    topic = sns.create_topic(Name=unique("errs"))["TopicArn"]
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:1:q")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="https://example.com/")
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.subscribe(TopicArn=topic + "-missing", Protocol="http", Endpoint="http://x/")
    # A missing required parameter (botocore validates, so a raw signed Query call).
    r = server.signed("POST", "/", "Action=CreateTopic&Version=2010-03-31",
                      {"Content-Type": "application/x-www-form-urlencoded"}, service="sns")
    assert r.status == 400 and b"<Code>InvalidParameter</Code>" in r.body, r.body
    rc, out, err = server.cli("sns", "publish", "--topic-arn", topic, "--message", "hi")
    assert rc != 0 and cli_error_code(err) == "NotImplemented", err


def test_send_and_delivery_arrive_in_order_as_in_the_event_log(server, ses, receiver):
    cs = unique("snsflow")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    sns = server.client("sns")
    topic = sns.create_topic(Name=unique("events"))["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="http",
                        Endpoint=receiver.url + "/ses")["SubscriptionArn"]
    sns_destination(ses, cs, topic)
    mid = send(ses, cs)
    wait_until(lambda: len(receiver.notifications()) >= 2, 15, what="two notifications")
    time.sleep(0.3)
    notes = receiver.bodies("Notification")
    assert [json.loads(n["Message"])["eventType"] for n in notes] == ["Send", "Delivery"]
    logged = logged_records(server, mid)
    assert [json.loads(n["Message"]) for n in notes] == logged
    for n in notes:
        assert n["TopicArn"] == topic
        assert n["SignatureVersion"] == "1"
        assert n["Timestamp"].endswith("Z") and "." in n["Timestamp"]
        assert sub in urllib.parse.unquote(n["UnsubscribeURL"])
        verify_signature(server, n)
    assert len({n["MessageId"] for n in notes}) == 2
    record = json.loads(notes[0]["Message"])
    assert record["mail"]["messageId"] == mid
    assert record["mail"]["tags"]["campaign"] == ["spring"]
    posts = [p for p in receiver.posts if json.loads(p["body"])["Type"] == "Notification"]
    for p, n in zip(posts, notes):
        h = p["headers"]
        assert h["x-amz-sns-message-type"] == "Notification"
        assert h["x-amz-sns-topic-arn"] == topic
        assert h["x-amz-sns-subscription-arn"] == sub
        assert h["x-amz-sns-message-id"] == n["MessageId"]
        assert h["Content-Type"] == "text/plain; charset=UTF-8"


def test_a_failing_endpoint_gets_everything_once_it_recovers(server, ses, cloudwatch):
    receiver = Receiver()
    receiver.failing = True
    try:
        cs = unique("retry")
        ses.create_configuration_set(ConfigurationSet={"Name": cs})
        topic = topic_with_subscriber(server, receiver.url)
        sns_destination(ses, cs, topic, types=("send", "delivery", "bounce"))
        ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
            "Name": "cw", "Enabled": True, "MatchingEventTypes": ["send"],
            "CloudWatchDestination": {"DimensionConfigurations": [{
                "DimensionName": "retrytag", "DimensionValueSource": "messageTag",
                "DefaultDimensionValue": "none"}]}})
        ids = [send(ses, cs, tags=(("retrytag", cs),)), send(ses, cs, to=BOUNCE,
                                                             tags=(("retrytag", cs),))]
        # CloudWatch is not held up by the failing SNS endpoint.
        import datetime
        now = datetime.datetime.now(datetime.timezone.utc)

        def cw_sends():
            out = cloudwatch.get_metric_statistics(
                Namespace="AWS/SES", MetricName="Send", Statistics=["Sum"], Period=7200,
                StartTime=now - datetime.timedelta(hours=1),
                EndTime=now + datetime.timedelta(hours=1),
                Dimensions=[{"Name": "retrytag", "Value": cs}])
            return sum(p["Sum"] for p in out["Datapoints"])

        wait_until(lambda: cw_sends() == 2, 10, what="CloudWatch Send == 2")
        wait_until(lambda: receiver.attempts >= 3, 10, what="retries")
        assert receiver.notifications() == []
        receiver.failing = False
        wait_until(lambda: len(receiver.notifications()) >= 4, 20, what="four notifications")
        got = [(r["mail"]["messageId"], r["eventType"]) for r in receiver.notifications()]
        assert sorted(set(got)) == sorted({(ids[0], "Send"), (ids[0], "Delivery"),
                                           (ids[1], "Send"), (ids[1], "Bounce")})
        # in log order
        logged = [(r["mail"]["messageId"], r["eventType"])
                  for i in ids for r in logged_records(server, i)]
        assert [g for g in got if g[0] == ids[0]] == [g for g in logged if g[0] == ids[0]]
    finally:
        receiver.close()


def test_disabled_destinations_and_unmatched_types_get_nothing(server, ses, receiver):
    cs = unique("quiet")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    disabled_topic = topic_with_subscriber(server, receiver.url + "/disabled")
    bounce_topic = topic_with_subscriber(server, receiver.url + "/bounces")
    sns_destination(ses, cs, disabled_topic, name="off", enabled=False)
    sns_destination(ses, cs, bounce_topic, name="bounces", types=("bounce",))
    send(ses, cs)
    bounced = send(ses, cs, to=BOUNCE)
    wait_until(lambda: receiver.notifications(), 15, what="the bounce notification")
    time.sleep(1.0)
    notes = [(p["path"], json.loads(json.loads(p["body"])["Message"])["eventType"])
             for p in receiver.posts if json.loads(p["body"])["Type"] == "Notification"]
    assert notes == [("/bounces/sns", "Bounce")]
    assert receiver.notifications()[0]["mail"]["messageId"] == bounced


def test_firehose_destination_appends_json_lines(server, ses):
    cs = unique("fh")
    stream = unique("stream")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
        "Name": "fh", "Enabled": True, "MatchingEventTypes": ["send", "delivery"],
        "KinesisFirehoseDestination": {
            "IAMRoleARN": ROLE,
            "DeliveryStreamARN": f"arn:aws:firehose:us-east-1:123456789012:deliverystream/{stream}"}})
    ids = [send(ses, cs), send(ses, cs)]
    path = os.path.join(server.data_dir, "firehose", stream + ".jsonl")

    def lines():
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.read().splitlines()

    wait_until(lambda: len(lines()) >= 4, 15, what="four Firehose lines")
    records = [json.loads(line) for line in lines()]
    logged = [r for i in ids for r in logged_records(server, i)]
    assert sorted(json.dumps(r, sort_keys=True) for r in records) == \
        sorted(json.dumps(r, sort_keys=True) for r in logged)
    assert [r["eventType"] for r in records if r["mail"]["messageId"] == ids[0]] == \
        ["Send", "Delivery"]


def test_eventbridge_target_receives_events(server_factory, receiver):
    bus = "arn:aws:events:us-east-1:123456789012:event-bus/default"
    srv = server_factory(extra_args=("--eventbridge-target", f"{bus}={receiver.url}/eb"))
    sesv2 = srv.client("sesv2")
    cs = unique("eb")
    sesv2.create_configuration_set(ConfigurationSetName=cs)
    # EventBridge destinations are in newer models only (boto3 1.26 cannot send them): raw call.
    body = {"EventDestinationName": "eb",
            "EventDestination": {"Enabled": True, "MatchingEventTypes": ["SEND", "DELIVERY",
                                                                         "BOUNCE"],
                                 "EventBridgeDestination": {"EventBusArn": bus}}}
    r = srv.signed("POST", f"/v2/email/configuration-sets/{cs}/event-destinations",
                   json.dumps(body), {"Content-Type": "application/json"})
    assert r.status == 200, r.body
    mid = sesv2.send_email(FromEmailAddress="sender@example.com",
                           Destination={"ToAddresses": [BOUNCE]}, ConfigurationSetName=cs,
                           Content={"Simple": {"Subject": {"Data": "s"},
                                               "Body": {"Text": {"Data": "b"}}}})["MessageId"]
    wait_until(lambda: len(receiver.posts) >= 2, 15, what="two EventBridge events")
    events = receiver.bodies()
    assert [e["detail-type"] for e in events] == ["Email Sent", "Email Bounced"]
    assert [e["detail"] for e in events] == logged_records(srv, mid)
    for e, p in zip(events, receiver.posts):
        assert e["source"] == "aws.ses" and e["version"] == "0"
        assert e["account"] == "123456789012" and e["region"] == "us-east-1"
        assert e["resources"] == [] and len(e["id"]) == 36
        assert e["time"].endswith("Z")
        assert p["path"] == "/eb"
        assert p["headers"]["Content-Type"] == "application/json"


def test_static_subscribers_from_the_config_file(server_factory, receiver, tmp_path):
    topic = "arn:aws:sns:us-east-1:123456789012:static-topic"
    config = tmp_path / "mailtally.toml"
    config.write_text(f'[sns_subscriptions]\n"{topic}" = ["{receiver.url}/static"]\n')
    srv = server_factory(extra_args=("--config", str(config)))
    ses = srv.client("ses")
    cs = unique("static")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    sns_destination(ses, cs, topic)
    send(ses, cs)
    wait_until(lambda: len(receiver.notifications()) >= 2, 15, what="two notifications")
    assert [r["eventType"] for r in receiver.notifications()] == ["Send", "Delivery"]
    assert receiver.posts[0]["path"] == "/static"


def test_kill9_and_restart_loses_no_notification(server_factory, receiver):
    srv = server_factory()
    ses = srv.client("ses")
    cs = unique("k9")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    topic = topic_with_subscriber(srv, receiver.url)
    sns_destination(ses, cs, topic)
    wait_until(lambda: receiver.bodies("SubscriptionConfirmation"), 10, what="confirmation")
    ids = [send(ses, cs) for _ in range(30)]
    srv.kill9()
    srv.start()
    expected = {(i, t) for i in ids for t in ("Send", "Delivery")}

    def got():
        return {(r["mail"]["messageId"], r["eventType"]) for r in receiver.notifications()}

    wait_until(lambda: expected <= got(), 30, what="every notification after the restart")
    # at least once, and per message still in log order
    for i in ids:
        kinds = [r["eventType"] for r in receiver.notifications() if r["mail"]["messageId"] == i]
        assert kinds.index("Send") < kinds.index("Delivery")
