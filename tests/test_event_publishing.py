"""The SES guide's CloudWatch event destination, end to end with real clients: sends through a
configuration set become AWS/SES metrics, one per event type and dimension values, readable only
by their full dimension set (../shared/spec/000_3d442b634295c136.txt, spec section 8)."""
import datetime
import json
import os
import shutil
import subprocess
import urllib.request

import pytest

from helpers import unique, wait_until

SIM = "success@simulator.amazonses.com"


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def window():
    return now() - datetime.timedelta(hours=1), now() + datetime.timedelta(hours=1)


def total(cloudwatch, metric, dims, namespace="AWS/SES"):
    start, end = window()
    out = cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName=metric, StartTime=start, EndTime=end, Period=7200,
        Statistics=["Sum"], Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()])
    return sum(p["Sum"] for p in out["Datapoints"])


def wait_total(cloudwatch, metric, dims, expected, namespace="AWS/SES"):
    wait_until(lambda: total(cloudwatch, metric, dims, namespace) == expected, 10,
               what=f"{metric} {dims} == {expected}")


def cw_destination(ses, cs, name, dims, types=("send", "delivery"), enabled=True):
    ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
        "Name": name, "Enabled": enabled, "MatchingEventTypes": list(types),
        "CloudWatchDestination": {"DimensionConfigurations": [
            {"DimensionName": n, "DimensionValueSource": src, "DefaultDimensionValue": dflt}
            for n, src, dflt in dims]}})


def send(ses, cs, tags=(), to=SIM, source="sender@example.com"):
    return ses.send_email(Source=source, Destination={"ToAddresses": [to]},
                          Message={"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "x"}}},
                          Tags=[{"Name": k, "Value": v} for k, v in tags],
                          ConfigurationSetName=cs)["MessageId"]


def raw_send(ses, cs, headers):
    lines = [f"From: sender@example.com", f"To: {SIM}", "Subject: raw",
             f"X-SES-CONFIGURATION-SET: {cs}"] + [f"{k}: {v}" for k, v in headers]
    data = ("\r\n".join(lines) + "\r\n\r\nbody\r\n").encode()
    return ses.send_raw_email(RawMessage={"Data": data})["MessageId"]


def test_the_guide_flow_with_both_clis(server, ses, cloudwatch):
    cs = unique("guide")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("campaign", "messageTag", "none")])
    send(ses, cs, [("campaign", "book")])
    wait_total(cloudwatch, "Send", {"campaign": "book"}, 1)
    wait_total(cloudwatch, "Delivery", {"campaign": "book"}, 1)
    start, end = window()
    rc, out, err = server.cli("cloudwatch", "get-metric-statistics", "--namespace", "AWS/SES",
                              "--metric-name", "Send", "--dimensions", "Name=campaign,Value=book",
                              "--statistics", "Sum", "--period", "7200",
                              "--start-time", start.isoformat(), "--end-time", end.isoformat())
    assert rc == 0, err
    assert [p["Sum"] for p in out["Datapoints"]] == [1.0]


def test_default_value_when_the_tag_is_missing(ses, cloudwatch):
    cs = unique("dflt")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("campaign", "messageTag", "none"),
                                   ("ses:configuration-set", "messageTag", "unset")])
    send(ses, cs)
    wait_total(cloudwatch, "Send", {"campaign": "none", "ses:configuration-set": cs}, 1)


def test_auto_tag_dimensions(ses, cloudwatch):
    cs = unique("auto")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("ses:from-domain", "messageTag", "none"),
                                   ("ses:configuration-set", "messageTag", "none")])
    send(ses, cs, source="news@shop.example.com")
    wait_total(cloudwatch, "Send",
               {"ses:from-domain": "shop.example.com", "ses:configuration-set": cs}, 1)


def test_a_three_dimension_metric_is_not_retrievable_with_two(ses, cloudwatch):
    cs = unique("three")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("campaign", "messageTag", "none"),
                                   ("genre", "messageTag", "none"),
                                   ("ses:configuration-set", "messageTag", "none")])
    send(ses, cs, [("campaign", "book"), ("genre", "scifi")])
    full = {"campaign": "book", "genre": "scifi", "ses:configuration-set": cs}
    wait_total(cloudwatch, "Send", full, 1)
    assert total(cloudwatch, "Send", {"campaign": "book", "genre": "scifi"}) == 0
    assert total(cloudwatch, "Send", {"campaign": "book", "ses:configuration-set": cs}) == 0


def test_two_destinations_give_campaign_and_campaign_genre_metrics(ses, cloudwatch):
    cs = unique("two")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "by-campaign", [("campaign", "messageTag", "none"),
                                            ("ses:configuration-set", "messageTag", "x")])
    cw_destination(ses, cs, "by-both", [("campaign", "messageTag", "none"),
                                        ("genre", "messageTag", "none"),
                                        ("ses:configuration-set", "messageTag", "x")])
    send(ses, cs, [("campaign", "book"), ("genre", "scifi")])
    send(ses, cs, [("campaign", "book"), ("genre", "poetry")])
    wait_total(cloudwatch, "Send", {"campaign": "book", "ses:configuration-set": cs}, 2)
    wait_total(cloudwatch, "Send",
               {"campaign": "book", "genre": "scifi", "ses:configuration-set": cs}, 1)
    wait_total(cloudwatch, "Send",
               {"campaign": "book", "genre": "poetry", "ses:configuration-set": cs}, 1)


def test_disabled_destination_and_unmatched_types_publish_nothing(ses, cloudwatch):
    cs = unique("off")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "disabled", [("ses:configuration-set", "messageTag", "x"),
                                         ("which", "messageTag", "disabled")], enabled=False)
    cw_destination(ses, cs, "bounces", [("ses:configuration-set", "messageTag", "x"),
                                        ("which", "messageTag", "bounces")], types=("bounce",))
    cw_destination(ses, cs, "sends", [("ses:configuration-set", "messageTag", "x"),
                                      ("which", "messageTag", "sends")], types=("send",))
    send(ses, cs)
    wait_total(cloudwatch, "Send", {"ses:configuration-set": cs, "which": "sends"}, 1)
    assert total(cloudwatch, "Send", {"ses:configuration-set": cs, "which": "disabled"}) == 0
    assert total(cloudwatch, "Send", {"ses:configuration-set": cs, "which": "bounces"}) == 0
    assert total(cloudwatch, "Delivery", {"ses:configuration-set": cs, "which": "sends"}) == 0


def test_email_header_dimension_and_a_bad_header_value(ses, cloudwatch):
    cs = unique("hdr")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("X-Campaign", "emailHeader", "none"),
                                   ("ses:configuration-set", "messageTag", "x")],
                   types=("send",))
    raw_send(ses, cs, [("x-campaign", "spring_sale")])  # header names match in any case
    raw_send(ses, cs, [("X-Campaign", "spring sale")])  # a space: sent, but no metric
    wait_total(cloudwatch, "Send", {"X-Campaign": "spring_sale", "ses:configuration-set": cs}, 1)
    dropped = {"ConfigurationSet": cs, "EventDestination": "cw",
               "Reason": "bad_header_characters"}
    wait_total(cloudwatch, "DroppedDatapoints", dropped, 1, namespace="mailtally/Publishing")
    assert total(cloudwatch, "Send", {"X-Campaign": "none", "ses:configuration-set": cs}) == 0


def test_header_tags_with_bad_characters_are_sent_without_metrics(ses, cloudwatch):
    cs = unique("tags")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("campaign", "messageTag", "none"),
                                   ("ses:configuration-set", "messageTag", "x")],
                   types=("send",))
    raw_send(ses, cs, [("X-SES-MESSAGE-TAGS", "campaign=book")])
    mid = raw_send(ses, cs, [("X-SES-MESSAGE-TAGS", "campaign=b\u00e9ok")])
    assert mid
    wait_total(cloudwatch, "Send", {"campaign": "book", "ses:configuration-set": cs}, 1)
    wait_total(cloudwatch, "DroppedDatapoints",
               {"ConfigurationSet": cs, "EventDestination": "cw", "Reason": "non_ascii"}, 1,
               namespace="mailtally/Publishing")


def test_link_tag_dimension_only_publishes_clicks(ses, cloudwatch):
    cs = unique("link")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("product", "linkTag", "none"),
                                   ("ses:configuration-set", "messageTag", "x")],
                   types=("send", "click"))
    send(ses, cs)
    wait_total(cloudwatch, "DroppedDatapoints",
               {"ConfigurationSet": cs, "EventDestination": "cw",
                "Reason": "link_tag_on_non_click"}, 1, namespace="mailtally/Publishing")
    assert total(cloudwatch, "Send", {"product": "none", "ses:configuration-set": cs}) == 0


def test_account_level_metrics_have_no_dimensions(fresh_server):
    ses = fresh_server.client("ses")
    cloudwatch = fresh_server.client("cloudwatch")
    ses.send_email(Source="sender@example.com",  # no configuration set at all
                   Destination={"ToAddresses": [SIM, "bounce@simulator.amazonses.com"]},
                   Message={"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "x"}}})
    wait_total(cloudwatch, "Send", {}, 1)
    wait_total(cloudwatch, "Delivery", {}, 1)
    wait_total(cloudwatch, "Bounce", {}, 1)


def test_metrics_survive_kill9_and_count_once(fresh_server):
    ses = fresh_server.client("ses")
    cs = unique("kill")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("ses:configuration-set", "messageTag", "x")],
                   types=("send",))
    ids = [send(ses, cs) for _ in range(30)]
    fresh_server.kill9()
    fresh_server.restart()
    cloudwatch = fresh_server.client("cloudwatch")
    wait_total(cloudwatch, "Send", {"ses:configuration-set": cs}, len(ids))
    fresh_server.kill9()
    fresh_server.restart()
    cloudwatch = fresh_server.client("cloudwatch")
    ses = fresh_server.client("ses")
    send(ses, cs)
    wait_total(cloudwatch, "Send", {"ses:configuration-set": cs}, len(ids) + 1)


NEW_PYTHON = shutil.which("python3", path="/root/.pyenv/shims")


@pytest.mark.skipif(NEW_PYTHON is None, reason="no newer boto3 (awsJson1.0 CloudWatch) here")
def test_json_protocol_client_reads_the_same_metric(server, ses, cloudwatch):
    cs = unique("json")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("campaign", "messageTag", "none")])
    send(ses, cs, [("campaign", cs)])
    wait_total(cloudwatch, "Send", {"campaign": cs}, 1)
    script = f"""
import boto3, datetime, json
cw = boto3.client('cloudwatch', endpoint_url={server.endpoint!r}, region_name='us-east-1',
                  aws_access_key_id={server.key_id!r}, aws_secret_access_key={server.secret!r})
now = datetime.datetime.now(datetime.timezone.utc)
out = cw.get_metric_statistics(Namespace='AWS/SES', MetricName='Send',
    Dimensions=[{{'Name': 'campaign', 'Value': {cs!r}}}], Statistics=['Sum'], Period=7200,
    StartTime=now - datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(hours=1))
print(json.dumps({{'sum': sum(p['Sum'] for p in out['Datapoints']),
                  'protocol': getattr(cw.meta.service_model, 'resolved_protocol',
                                      cw.meta.service_model.protocol)}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    r = subprocess.run([NEW_PYTHON, "-c", script], capture_output=True, text=True, env=env,
                       timeout=60)
    if r.returncode != 0 and "No module named 'boto3'" in r.stderr:
        pytest.skip("newer python has no boto3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["protocol"] == "json"  # awsJson1.0 with X-Amz-Target, not Query
    assert out["sum"] == 1
