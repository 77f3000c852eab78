"""Templated sends through the real server (spec 5.1, 5.2, 5.4, 10.2): v1 SendTemplatedEmail and
SendBulkTemplatedEmail, v2 SendEmail with Content.Template and SendBulkEmail. Rendered mail goes
through the ordinary pipeline; data that cannot fill the template gives a MessageId, no delivery,
and a Rendering Failure event (also as the CloudWatch metric "Rendering Failure")."""
import datetime
import email
import email.policy
import json
import time
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from helpers import unique, wait_until

SIM = "success@simulator.amazonses.com"
SOURCE = "sender@example.com"


def code(exc_info):
    return exc_info.value.response["Error"]["Code"]


def events(server, message_id):
    q = urllib.parse.urlencode({"message_id": message_id})
    return [e["record"] for e in server.raw("GET", f"/_mailtally/events?{q}").json()["events"]]


def types(server, message_id):
    return [r["eventType"] for r in events(server, message_id)]


def delivered(server, message_id):
    r = server.raw("GET", f"/_mailtally/mailbox/{message_id}")
    if r.status != 200:
        return None
    return email.message_from_bytes(r.body, policy=email.policy.default)


def text_of(msg, subtype):
    for part in msg.walk():
        if part.get_content_type() == f"text/{subtype}":
            return part.get_content().replace("\r\n", "\n").rstrip("\n")
    return None


def make_template(ses, **parts):
    name = unique("tpl")
    ses.create_template(Template={"TemplateName": name, **parts})
    return name


@pytest.fixture(scope="module")
def greeting(ses):
    return make_template(ses, SubjectPart="Hello {{name}}",
                         TextPart="Dear {{name}},{{#each items}} {{this}}{{/each}}",
                         HtmlPart="<p>{{name}} & {{#if vip}}VIP{{else}}guest{{/if}}</p>")


def test_v1_templated_send_is_rendered_and_delivered(server, ses, greeting):
    to = f"{unique('rcpt')}@example.com"
    mid = ses.send_templated_email(
        Source=SOURCE, Destination={"ToAddresses": [to]}, Template=greeting,
        TemplateData=json.dumps({"name": "Ann <A>", "items": ["x", "y"], "vip": True}),
        Tags=[{"Name": "campaign", "Value": "spring"}])["MessageId"]
    msg = wait_until(lambda: delivered(server, mid), 10, what="delivery to the mailbox")
    assert str(msg["Subject"]) == "Hello Ann <A>"
    assert text_of(msg, "plain") == "Dear Ann <A>, x y"
    assert text_of(msg, "html") == "<p>Ann <A> & VIP</p>"
    send = [r for r in events(server, mid) if r["eventType"] == "Send"]
    assert len(send) == 1
    tags = send[0]["mail"]["tags"]
    assert tags["ses:operation"] == ["SendTemplatedEmail"]
    assert tags["campaign"] == ["spring"]
    assert send[0]["mail"]["commonHeaders"]["subject"] == "Hello Ann <A>"


def test_unknown_template_and_bad_data_are_errors(ses, sesv2, greeting):
    missing = unique("none")
    with pytest.raises(ClientError) as e:
        ses.send_templated_email(Source=SOURCE, Destination={"ToAddresses": [SIM]},
                                 Template=missing, TemplateData="{}")
    assert code(e) == "TemplateDoesNotExist"
    with pytest.raises(ClientError) as e:
        ses.send_bulk_templated_email(Source=SOURCE, Template=missing,
                                      Destinations=[{"Destination": {"ToAddresses": [SIM]}}])
    assert code(e) == "TemplateDoesNotExist"
    with pytest.raises(ClientError) as e:
        sesv2.send_email(FromEmailAddress=SOURCE, Destination={"ToAddresses": [SIM]},
                         Content={"Template": {"TemplateName": missing, "TemplateData": "{}"}})
    assert code(e) == "NotFoundException"
    with pytest.raises(ClientError) as e:
        sesv2.send_bulk_email(FromEmailAddress=SOURCE,
                              DefaultContent={"Template": {"TemplateName": missing}},
                              BulkEmailEntries=[{"Destination": {"ToAddresses": [SIM]}}])
    assert code(e) == "NotFoundException"
    with pytest.raises(ClientError) as e:
        ses.send_templated_email(Source=SOURCE, Destination={"ToAddresses": [SIM]},
                                 Template=greeting, TemplateData="{not json")
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sesv2.send_email(FromEmailAddress=SOURCE, Destination={"ToAddresses": [SIM]},
                         Content={"Template": {"TemplateName": greeting, "TemplateData": "[1]"}})
    assert code(e) == "BadRequestException"
    with pytest.raises(ClientError) as e:  # the usual send checks still apply
        ses.send_templated_email(Source="not an address", Destination={"ToAddresses": [SIM]},
                                 Template=greeting, TemplateData='{"name": "x"}')
    assert code(e) == "MessageRejected"
    with pytest.raises(ClientError) as e:
        ses.send_templated_email(Source=SOURCE, Destination={"ToAddresses": [SIM]},
                                 Template=greeting, TemplateData='{"name": "x"}',
                                 ConfigurationSetName=unique("nosuchset"))
    assert code(e) == "ConfigurationSetDoesNotExist"


def test_rendering_failure_gets_a_message_id_and_no_delivery(server, ses, greeting):
    cs = unique("rf")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    to = f"{unique('rcpt')}@example.com"
    mid = ses.send_templated_email(Source=SOURCE, Destination={"ToAddresses": [to]},
                                   Template=greeting, TemplateData='{"items": []}',
                                   ConfigurationSetName=cs)["MessageId"]
    assert mid
    recs = wait_until(lambda: events(server, mid), 10, what="the Rendering Failure event")
    time.sleep(0.5)  # give a (wrong) delivery the time to happen
    recs = events(server, mid)
    assert [r["eventType"] for r in recs] == ["Rendering Failure"]
    rec = recs[0]
    assert rec["failure"] == {"errorMessage":
                              "Attribute 'name' is not present in the rendering data.",
                              "templateName": greeting}
    mail = rec["mail"]
    assert mail["messageId"] == mid and mail["destination"] == [to]
    assert mail["source"] == SOURCE and mail["sendingAccountId"] == "123456789012"
    assert "headers" not in mail and "commonHeaders" not in mail  # as SES's example
    assert mail["tags"]["ses:configuration-set"] == [cs]
    assert mail["tags"]["ses:operation"] == ["SendTemplatedEmail"]
    assert delivered(server, mid) is None
    only = server.raw("GET", "/_mailtally/events?" + urllib.parse.urlencode(
        {"type": "Rendering Failure", "message_id": mid})).json()["events"]
    assert len(only) == 1


def test_rendering_failure_metric_through_cloudwatch(server, ses, sesv2, cloudwatch, greeting):
    cs = unique("rfcw")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=cs, EventDestinationName="cw",
        EventDestination={"Enabled": True, "MatchingEventTypes": ["RENDERING_FAILURE", "SEND"],
                          "CloudWatchDestination": {"DimensionConfigurations": [{
                              "DimensionName": "ses:configuration-set",
                              "DimensionValueSource": "MESSAGE_TAG",
                              "DefaultDimensionValue": "none"}]}})
    for _ in range(2):
        ses.send_templated_email(Source=SOURCE, Destination={"ToAddresses": [SIM]},
                                 Template=greeting, TemplateData="{}", ConfigurationSetName=cs)
    ses.send_templated_email(Source=SOURCE, Destination={"ToAddresses": [SIM]},
                             Template=greeting, TemplateData='{"name": "ok"}',
                             ConfigurationSetName=cs)
    dims = [{"Name": "ses:configuration-set", "Value": cs}]
    now = datetime.datetime.now(datetime.timezone.utc)

    def total(metric):
        out = cloudwatch.get_metric_statistics(
            Namespace="AWS/SES", MetricName=metric, Dimensions=dims, Period=7200,
            StartTime=now - datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(hours=1),
            Statistics=["Sum"])
        return sum(p["Sum"] for p in out["Datapoints"])

    wait_until(lambda: total("Rendering Failure") == 2 and total("Send") == 1, 10,
               what="Rendering Failure = 2 and Send = 1")
    names = {m["MetricName"] for m in cloudwatch.list_metrics(
        Namespace="AWS/SES", Dimensions=dims)["Metrics"]}
    assert names == {"Rendering Failure", "Send"}


def test_v1_bulk_send_per_destination(server, ses, greeting):
    cs = unique("bulk")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    a, b, c = (f"{unique(x)}@example.com" for x in "abc")
    out = ses.send_bulk_templated_email(
        Source=SOURCE, Template=greeting, ConfigurationSetName=cs,
        DefaultTemplateData=json.dumps({"name": "Default", "items": ["d"]}),
        DefaultTags=[{"Name": "campaign", "Value": "bulk"}, {"Name": "tier", "Value": "std"}],
        Destinations=[
            {"Destination": {"ToAddresses": [a]},
             "ReplacementTemplateData": json.dumps({"name": "Ann"}),
             "ReplacementTags": [{"Name": "tier", "Value": "gold"}]},
            {"Destination": {"ToAddresses": [b]}, "ReplacementTemplateData": "{}"},
            {"Destination": {"ToAddresses": [c]},
             "ReplacementTemplateData": json.dumps({"name": None, "items": [1]})},
            {"Destination": {"ToAddresses": ["bad address"]}},
            {"Destination": {"ToAddresses": [a]}, "ReplacementTemplateData": "[not an object]"},
        ])["Status"]
    assert [s["Status"] for s in out] == ["Success", "Success", "Success", "MessageRejected",
                                          "InvalidParameterValue"]
    assert all(s.get("MessageId") for s in out[:3])
    assert all("Error" in s and "MessageId" not in s for s in out[3:])
    msg_a = wait_until(lambda: delivered(server, out[0]["MessageId"]), 10, what="delivery to a")
    assert str(msg_a["Subject"]) == "Hello Ann"
    assert text_of(msg_a, "plain") == "Dear Ann, d"  # replacement data over the defaults
    msg_b = wait_until(lambda: delivered(server, out[1]["MessageId"]), 10, what="delivery to b")
    assert str(msg_b["Subject"]) == "Hello Default"  # {} -> DefaultTemplateData
    msg_c = wait_until(lambda: delivered(server, out[2]["MessageId"]), 10, what="delivery to c")
    assert str(msg_c["Subject"]) == "Hello "  # null is present and prints nothing
    send_a = [r for r in events(server, out[0]["MessageId"]) if r["eventType"] == "Send"][0]
    tags = send_a["mail"]["tags"]
    assert tags["tier"] == ["gold"] and tags["campaign"] == ["bulk"]
    assert tags["ses:operation"] == ["SendBulkTemplatedEmail"]


def test_v1_bulk_rendering_failure_is_per_destination(server, ses, greeting):
    out = ses.send_bulk_templated_email(
        Source=SOURCE, Template=greeting, DefaultTemplateData="{}",
        Destinations=[{"Destination": {"ToAddresses": [SIM]},
                       "ReplacementTemplateData": json.dumps({"name": "ok"})},
                      {"Destination": {"ToAddresses": [SIM]}}])["Status"]
    assert [s["Status"] for s in out] == ["Success", "Success"]
    wait_until(lambda: "Delivery" in types(server, out[0]["MessageId"]), 10, what="delivery")
    wait_until(lambda: types(server, out[1]["MessageId"]) == ["Rendering Failure"], 10,
               what="the second destination's Rendering Failure")
    with pytest.raises(ClientError) as e:
        ses.send_bulk_templated_email(
            Source=SOURCE, Template=greeting,
            Destinations=[{"Destination": {"ToAddresses": [SIM]}}] * 51)
    assert code(e) == "InvalidParameterValue"


def test_v2_send_email_with_template_name_and_arn(server, ses, sesv2, greeting):
    mid = sesv2.send_email(FromEmailAddress=SOURCE, Destination={"ToAddresses": [SIM]},
                           Content={"Template": {"TemplateName": greeting,
                                                 "TemplateData": '{"name": "V2"}'}})["MessageId"]
    recs = wait_until(lambda: [r for r in events(server, mid) if r["eventType"] == "Send"], 10,
                      what="the Send event")
    assert recs[0]["mail"]["tags"]["ses:operation"] == ["SendEmail"]
    assert recs[0]["mail"]["commonHeaders"]["subject"] == "Hello V2"
    arn = f"arn:aws:ses:us-east-1:123456789012:template/{greeting}"
    mid = sesv2.send_email(FromEmailAddress=SOURCE, Destination={"ToAddresses": [SIM]},
                           Content={"Template": {"TemplateArn": arn,
                                                 "TemplateData": "{}"}})["MessageId"]
    wait_until(lambda: types(server, mid) == ["Rendering Failure"], 10,
               what="a Rendering Failure for v2 SendEmail")
    # Simple content still goes to the original handler.
    mid = sesv2.send_email(FromEmailAddress=SOURCE, Destination={"ToAddresses": [SIM]},
                           Content={"Simple": {"Subject": {"Data": "s"},
                                               "Body": {"Text": {"Data": "t"}}}})["MessageId"]
    assert mid


def test_v2_send_email_with_inline_template_content(server):
    # TemplateContent is newer than the Debian botocore model: a signed request by hand.
    to = f"{unique('inline')}@example.com"
    body = {"FromEmailAddress": SOURCE, "Destination": {"ToAddresses": [to]},
            "Content": {"Template": {"TemplateContent": {"Subject": "Inline {{x}}",
                                                         "Text": "{{#if y}}yes{{/if}}"},
                                     "TemplateData": json.dumps({"x": 1, "y": True})}}}
    r = server.signed("POST", "/v2/email/outbound-emails", json.dumps(body),
                      {"Content-Type": "application/json"})
    assert r.status == 200, r.body
    mid = r.json()["MessageId"]
    msg = wait_until(lambda: delivered(server, mid), 10, what="delivery of the inline template")
    assert str(msg["Subject"]) == "Inline 1"
    assert text_of(msg, "plain") == "yes"
    body["Content"]["Template"]["TemplateContent"]["Text"] = "{{#if y}}unclosed"
    r = server.signed("POST", "/v2/email/outbound-emails", json.dumps(body),
                      {"Content-Type": "application/json"})
    assert r.status == 400 and r.json_error_code() == "BadRequestException"


def test_v2_bulk_email(server, sesv2, greeting):
    out = sesv2.send_bulk_email(
        FromEmailAddress=SOURCE,
        DefaultContent={"Template": {"TemplateName": greeting,
                                     "TemplateData": '{"name": "D"}'}},
        DefaultEmailTags=[{"Name": "campaign", "Value": "v2bulk"}],
        BulkEmailEntries=[
            {"Destination": {"ToAddresses": [SIM]},
             "ReplacementEmailContent": {"ReplacementTemplate": {
                 "ReplacementTemplateData": '{"name": "E1"}'}},
             "ReplacementTags": [{"Name": "campaign", "Value": "override"}]},
            {"Destination": {"ToAddresses": ["not-an-address"]}},
            {"Destination": {"ToAddresses": [SIM]}},
        ])["BulkEmailEntryResults"]
    assert [r["Status"] for r in out] == ["SUCCESS", "MESSAGE_REJECTED", "SUCCESS"]
    assert out[1]["Error"] and "MessageId" not in out[1]
    send = wait_until(lambda: [r for r in events(server, out[0]["MessageId"])
                               if r["eventType"] == "Send"], 10, what="the Send event")[0]
    assert send["mail"]["commonHeaders"]["subject"] == "Hello E1"
    assert send["mail"]["tags"]["campaign"] == ["override"]
    assert send["mail"]["tags"]["ses:operation"] == ["SendBulkEmail"]
    send = wait_until(lambda: [r for r in events(server, out[2]["MessageId"])
                               if r["eventType"] == "Send"], 10, what="the Send event")[0]
    assert send["mail"]["commonHeaders"]["subject"] == "Hello D"
    assert send["mail"]["tags"]["campaign"] == ["v2bulk"]


def test_cli_send_templated_email(server, greeting):
    rc, out, err = server.cli("ses", "send-templated-email", "--source", SOURCE,
                              "--destination", json.dumps({"ToAddresses": [SIM]}),
                              "--template", greeting, "--template-data", '{"name": "cli"}')
    assert rc == 0, err
    mid = out["MessageId"]
    wait_until(lambda: "Delivery" in types(server, mid), 10, what="delivery")
    rc, _, err = server.cli("ses", "send-templated-email", "--source", SOURCE,
                            "--destination", json.dumps({"ToAddresses": [SIM]}),
                            "--template", unique("none"), "--template-data", "{}")
    assert rc != 0 and "TemplateDoesNotExist" in err


def test_templates_and_rendering_failures_survive_kill9(fresh_server):
    ses = fresh_server.client("ses")
    ses.create_template(Template={"TemplateName": "durable", "SubjectPart": "{{who}}"})
    mid = ses.send_templated_email(Source=SOURCE,
                                   Destination={"ToAddresses": ["someone@example.com"]},
                                   Template="durable", TemplateData="{}")["MessageId"]
    # Acknowledged means committed: kill -9 right after the answers.
    fresh_server.kill9()
    fresh_server.start()
    ses = fresh_server.client("ses")
    assert ses.get_template(TemplateName="durable")["Template"]["SubjectPart"] == "{{who}}"
    assert types(fresh_server, mid) == ["Rendering Failure"]
    time.sleep(0.5)  # a restarted delivery worker must not pick the message up
    assert types(fresh_server, mid) == ["Rendering Failure"]
    assert delivered(fresh_server, mid) is None
