"""Sending statistics and quotas with real clients: GetSendStatistics counts recipients per
15-minute interval from the event log, SentLast24Hours is real (v1 GetSendQuota, v2 GetAccount,
also after a restart), and --max-send-rate / --max-24-hour-send refuse sends with SES's errors
through boto3 v1 and v2 and the AWS CLI."""
import datetime
import json
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from helpers import cli_error_code, wait_until

SIM = "success@simulator.amazonses.com"
BOUNCE = "bounce@simulator.amazonses.com"
COMPLAINT = "complaint@simulator.amazonses.com"
EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def send(ses, to, body="x"):
    to = to if isinstance(to, list) else [to]
    return ses.send_email(Source="sender@example.com", Destination={"ToAddresses": to},
                          Message={"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": body}}}
                          )["MessageId"]


def send_v2(sesv2, to):
    return sesv2.send_email(FromEmailAddress="sender@example.com",
                            Destination={"ToAddresses": [to]},
                            Content={"Simple": {"Subject": {"Data": "s"},
                                                "Body": {"Text": {"Data": "b"}}}})["MessageId"]


def events_of(server, event_type):
    with urllib.request.urlopen(f"{server.endpoint}/_mailtally/events?type={event_type}"
                                f"&limit=1000", timeout=5) as r:
        return json.load(r)["events"]


def totals(points):
    keys = ("DeliveryAttempts", "Bounces", "Complaints", "Rejects")
    return {k: sum(p[k] for p in points) for k in keys}


def test_statistics_count_recipients_of_sends_bounces_complaints_and_rejects(fresh_server):
    ses = fresh_server.client("ses")
    assert ses.get_send_statistics()["SendDataPoints"] == []
    send(ses, SIM)
    send(ses, [SIM, "success+two@simulator.amazonses.com"])
    send(ses, BOUNCE)
    send(ses, BOUNCE)
    send(ses, COMPLAINT)
    send(ses, SIM, body=EICAR)
    wait_until(lambda: len(events_of(fresh_server, "Bounce")) == 2
               and len(events_of(fresh_server, "Complaint")) == 1
               and len(events_of(fresh_server, "Reject")) == 1, 15, what="outcome events")
    points = ses.get_send_statistics()["SendDataPoints"]
    assert totals(points) == {"DeliveryAttempts": 7, "Bounces": 2, "Complaints": 1, "Rejects": 1}
    now = datetime.datetime.now(datetime.timezone.utc)
    for p in points:
        ts = p["Timestamp"]
        assert now - datetime.timedelta(minutes=16) <= ts <= now
        assert ts.minute % 15 == 0 and ts.second == 0
    rc, out, err = fresh_server.cli("ses", "get-send-statistics")
    assert rc == 0, err
    assert totals(out["SendDataPoints"]) == totals(points)

    # SentLast24Hours counts recipients, in v1, v2 and the CLI, and survives a restart.
    assert ses.get_send_quota()["SentLast24Hours"] == 7.0
    assert fresh_server.client("sesv2").get_account()["SendQuota"]["SentLast24Hours"] == 7.0
    fresh_server.restart()
    ses = fresh_server.client("ses")
    assert ses.get_send_quota()["SentLast24Hours"] == 7.0
    rc, out, err = fresh_server.cli("ses", "get-send-quota")
    assert rc == 0 and out["SentLast24Hours"] == 7.0, err
    assert totals(ses.get_send_statistics()["SendDataPoints"]) == totals(points)


def test_max_send_rate_throttles_v1_v2_and_the_cli(server_factory):
    srv = server_factory(extra_args=("--max-send-rate", "1"))
    ses, sesv2 = srv.client("ses"), srv.client("sesv2")
    assert ses.get_send_quota()["MaxSendRate"] == 1.0

    send(ses, SIM)
    with pytest.raises(ClientError) as e:
        send(ses, SIM)
    err = e.value.response
    assert err["Error"]["Code"] == "Throttling"
    assert err["Error"]["Message"] == "Maximum sending rate exceeded."
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400

    time.sleep(1.1)
    send_v2(sesv2, SIM)
    with pytest.raises(ClientError) as e:
        send_v2(sesv2, SIM)
    err = e.value.response
    assert err["Error"]["Code"] == "TooManyRequestsException"
    assert err["Error"]["Message"] == "Maximum sending rate exceeded."
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 429

    # Refused sends are not counted: 2 accepted.
    assert ses.get_send_quota()["SentLast24Hours"] == 2.0
    time.sleep(1.1)
    send(ses, SIM)  # the bucket refills

    # The CLI takes about a second to start: a slower rate (one send per 20 s) for it.
    slow = server_factory(extra_args=("--max-send-rate", "0.05"))
    args = ("ses", "send-email", "--from", "sender@example.com", "--to", SIM, "--subject", "s",
            "--text", "t")
    rc, out, err = slow.cli(*args)
    assert rc == 0 and out["MessageId"], err
    rc, out, err = slow.cli(*args)
    assert rc != 0 and cli_error_code(err) == "Throttling", err
    assert "Maximum sending rate exceeded." in err


def test_max_24_hour_send_refuses_over_the_daily_quota(server_factory):
    srv = server_factory(extra_args=("--max-24-hour-send", "3", "--max-send-rate", "0"))
    ses, sesv2 = srv.client("ses"), srv.client("sesv2")
    assert ses.get_send_quota()["Max24HourSend"] == 3.0
    send(ses, [SIM, "success+b@simulator.amazonses.com"])
    with pytest.raises(ClientError) as e:  # 2 recipients, 1 left
        send(ses, [SIM, "success+c@simulator.amazonses.com"])
    err = e.value.response
    assert err["Error"]["Code"] == "Throttling"
    assert err["Error"]["Message"] == "Daily message quota exceeded."
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    send(ses, SIM)  # exactly at the quota
    assert ses.get_send_quota()["SentLast24Hours"] == 3.0

    with pytest.raises(ClientError) as e:
        send_v2(sesv2, SIM)
    err = e.value.response
    assert err["Error"]["Code"] == "LimitExceededException"
    assert err["Error"]["Message"] == "Daily message quota exceeded."

    rc, out, err = srv.cli("ses", "send-email", "--from", "sender@example.com", "--to", SIM,
                           "--subject", "s", "--text", "t")
    assert rc != 0 and cli_error_code(err) == "Throttling", err
    assert "Daily message quota exceeded." in err

    # The count comes back from the event log after a restart.
    srv.restart()
    with pytest.raises(ClientError) as e:
        send(srv.client("ses"), SIM)
    assert e.value.response["Error"]["Message"] == "Daily message quota exceeded."


def test_bulk_sends_report_quota_refusals_per_entry(server_factory):
    """Bulk sends do not fail whole: entries over the quota carry the models' statuses."""
    srv = server_factory(extra_args=("--max-24-hour-send", "2", "--max-send-rate", "0"))
    ses, sesv2 = srv.client("ses"), srv.client("sesv2")
    name = "bulk_quota"
    ses.create_template(Template={"TemplateName": name, "SubjectPart": "Hi {{n}}",
                                  "TextPart": "Hello {{n}}"})
    out = ses.send_bulk_templated_email(
        Source="sender@example.com", Template=name, DefaultTemplateData='{"n":"x"}',
        Destinations=[{"Destination": {"ToAddresses": [f"success+{i}@simulator.amazonses.com"]}}
                      for i in range(3)])
    statuses = [s["Status"] for s in out["Status"]]
    assert statuses == ["Success", "Success", "AccountDailyQuotaExceeded"], statuses
    out = sesv2.send_bulk_email(
        FromEmailAddress="sender@example.com",
        DefaultContent={"Template": {"TemplateName": name, "TemplateData": '{"n":"y"}'}},
        BulkEmailEntries=[{"Destination": {"ToAddresses": [SIM]}}])
    assert [r["Status"] for r in out["BulkEmailEntryResults"]] == ["ACCOUNT_DAILY_QUOTA_EXCEEDED"]
