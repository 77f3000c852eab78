"""The SES v2 account suppression list: its operations and errors, and its effect on delivery
(Bounce OnAccountSuppressionList; bounces and complaints adding addresses as configured)."""

from __future__ import annotations

import datetime
import time

import pytest

import helpers
from helpers import assert_error
from smtp_sink import SmtpSink

SENDER = "sender@example.com"


def events(srv, message_id: str, type_: str | None = None) -> list:
    q = f"/_mailtally/events?message_id={message_id}" + (f"&type={type_}" if type_ else "")
    r = srv.raw("GET", q)
    assert r.status == 200, r.body
    return [e["record"] for e in r.json()["events"]]


def wait_events(srv, message_id: str, type_: str, n: int = 1, timeout: float = 15) -> list:
    return helpers.wait_until(lambda: (lambda ev: ev if len(ev) >= n else None)(
        events(srv, message_id, type_)), timeout, what=f"{type_} of {message_id}")


def send(srv, to: list, **kw) -> str:
    return srv.client("sesv2").send_email(
        FromEmailAddress=SENDER, Destination={"ToAddresses": to},
        Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        **kw)["MessageId"]


def listed(v2, address: str):
    try:
        return v2.get_suppressed_destination(EmailAddress=address)["SuppressedDestination"]
    except v2.exceptions.NotFoundException:
        return None


def test_put_get_list_delete_and_errors(fresh_server):
    v2 = fresh_server.client("sesv2")
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)
    v2.put_suppressed_destination(EmailAddress="Bounced@Example.com", Reason="BOUNCE")
    v2.put_suppressed_destination(EmailAddress="complained@example.com", Reason="COMPLAINT")
    v2.put_suppressed_destination(EmailAddress="another@example.com", Reason="BOUNCE")
    got = v2.get_suppressed_destination(EmailAddress="bounced@example.com")["SuppressedDestination"]
    assert got["EmailAddress"] == "Bounced@Example.com" and got["Reason"] == "BOUNCE"
    assert got["LastUpdateTime"] >= before
    assert "Attributes" not in got  # put by the API: no message caused it

    # Put again replaces the reason.
    v2.put_suppressed_destination(EmailAddress="another@example.com", Reason="COMPLAINT")
    assert listed(v2, "another@example.com")["Reason"] == "COMPLAINT"

    every = v2.list_suppressed_destinations()["SuppressedDestinationSummaries"]
    assert [d["EmailAddress"] for d in every] == ["another@example.com", "Bounced@Example.com",
                                                  "complained@example.com"]
    only = v2.list_suppressed_destinations(Reasons=["BOUNCE"])["SuppressedDestinationSummaries"]
    assert [d["EmailAddress"] for d in only] == ["Bounced@Example.com"]
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    assert v2.list_suppressed_destinations(StartDate=future)[
        "SuppressedDestinationSummaries"] == []
    assert len(v2.list_suppressed_destinations(EndDate=future, StartDate=before)[
        "SuppressedDestinationSummaries"]) == 3

    # Paging: PageSize 2 then the rest.
    page = v2.list_suppressed_destinations(PageSize=2)
    assert len(page["SuppressedDestinationSummaries"]) == 2 and page["NextToken"]
    rest = v2.list_suppressed_destinations(PageSize=2, NextToken=page["NextToken"])
    assert [d["EmailAddress"] for d in rest["SuppressedDestinationSummaries"]] == [
        "complained@example.com"]
    assert "NextToken" not in rest

    assert_error(v2.list_suppressed_destinations, "InvalidNextTokenException", 400,
                 NextToken="garbage")
    assert_error(v2.list_suppressed_destinations, "BadRequestException", 400, PageSize=0)
    assert_error(v2.put_suppressed_destination, "BadRequestException", 400,
                 EmailAddress="not-an-address", Reason="BOUNCE")
    assert_error(v2.get_suppressed_destination, "NotFoundException", 404,
                 EmailAddress="nobody@example.com")

    v2.delete_suppressed_destination(EmailAddress="BOUNCED@example.com")
    assert listed(v2, "bounced@example.com") is None
    assert_error(v2.delete_suppressed_destination, "NotFoundException", 404,
                 EmailAddress="bounced@example.com")


def test_account_suppression_attributes_with_the_cli(fresh_server):
    v2 = fresh_server.client("sesv2")
    assert v2.get_account()["SuppressionAttributes"] == {"SuppressedReasons": []}
    rc, out, err = fresh_server.cli("sesv2", "put-account-suppression-attributes",
                                    "--suppressed-reasons", "BOUNCE", "COMPLAINT")
    assert rc == 0, err
    assert sorted(v2.get_account()["SuppressionAttributes"]["SuppressedReasons"]) == [
        "BOUNCE", "COMPLAINT"]
    rc, out, err = fresh_server.cli("sesv2", "put-suppressed-destination", "--email-address",
                                    "cli@example.com", "--reason", "COMPLAINT")
    assert rc == 0, err
    rc, out, err = fresh_server.cli("sesv2", "list-suppressed-destinations", "--reasons",
                                    "COMPLAINT")
    assert rc == 0, err
    assert [d["EmailAddress"] for d in out["SuppressedDestinationSummaries"]] == [
        "cli@example.com"]
    rc, out, err = fresh_server.cli("sesv2", "get-suppressed-destination", "--email-address",
                                    "missing@example.com")
    assert rc != 0 and helpers.cli_error_code(err) == "NotFoundException"
    v2.put_account_suppression_attributes(SuppressedReasons=[])
    assert v2.get_account()["SuppressionAttributes"] == {"SuppressedReasons": []}


def test_listed_recipient_gets_send_and_on_account_suppression_list_bounce(fresh_server):
    v2 = fresh_server.client("sesv2")
    v2.put_account_suppression_attributes(SuppressedReasons=["BOUNCE"])
    v2.put_suppressed_destination(EmailAddress="listed@example.com", Reason="BOUNCE")
    mid = send(fresh_server, ["Listed@example.com", "free@example.com"])
    bounce = wait_events(fresh_server, mid, "Bounce")[0]["bounce"]
    assert bounce["bounceType"] == "Permanent"
    assert bounce["bounceSubType"] == "OnAccountSuppressionList"
    [r] = bounce["bouncedRecipients"]
    assert r["emailAddress"] == "Listed@example.com" and r["status"] == "5.1.1"
    assert "suppression list" in r["diagnosticCode"]
    assert len(events(fresh_server, mid, "Send")) == 1
    [d] = wait_events(fresh_server, mid, "Delivery")
    assert d["delivery"]["recipients"] == ["free@example.com"]
    box = fresh_server.raw("GET", "/_mailtally/mailbox?to=listed@example.com").json()
    assert box["messages"] == []


def test_listed_for_a_reason_not_suppressed_is_delivered(fresh_server):
    v2 = fresh_server.client("sesv2")
    v2.put_account_suppression_attributes(SuppressedReasons=["BOUNCE"])
    v2.put_suppressed_destination(EmailAddress="complainer@example.com", Reason="COMPLAINT")
    mid = send(fresh_server, ["complainer@example.com"])
    wait_events(fresh_server, mid, "Delivery")
    # A configuration set's SuppressionOptions replace the account's, even when empty.
    v2.put_account_suppression_attributes(SuppressedReasons=["BOUNCE", "COMPLAINT"])
    name = helpers.unique("nosup")
    v2.create_configuration_set(ConfigurationSetName=name,
                                SuppressionOptions={"SuppressedReasons": []})
    mid = send(fresh_server, ["complainer@example.com"], ConfigurationSetName=name)
    wait_events(fresh_server, mid, "Delivery")
    mid = send(fresh_server, ["complainer@example.com"])  # the account's reasons apply
    assert wait_events(fresh_server, mid, "Bounce")[0]["bounce"]["bounceSubType"] == \
        "OnAccountSuppressionList"


def test_complaint_adds_the_address_when_configured(fresh_server):
    v2 = fresh_server.client("sesv2")
    v2.put_account_suppression_attributes(SuppressedReasons=["COMPLAINT"])
    mid = send(fresh_server, ["complaint+a@simulator.amazonses.com"])
    complaint = wait_events(fresh_server, mid, "Complaint")[0]["complaint"]
    got = listed(v2, "complaint+a@simulator.amazonses.com")
    assert got and got["Reason"] == "COMPLAINT"
    assert got["Attributes"] == {"MessageId": mid, "FeedbackId": complaint["feedbackId"]}
    # The next send to it is suppressed.
    again = send(fresh_server, ["complaint+a@simulator.amazonses.com"])
    assert wait_events(fresh_server, again, "Bounce")[0]["bounce"]["bounceSubType"] == \
        "OnAccountSuppressionList"
    assert events(fresh_server, again, "Complaint") == []


def test_configuration_set_options_that_exclude_the_reason_add_nothing(fresh_server):
    v2 = fresh_server.client("sesv2")
    v2.put_account_suppression_attributes(SuppressedReasons=["BOUNCE", "COMPLAINT"])
    name = helpers.unique("bounceonly")
    v2.create_configuration_set(ConfigurationSetName=name,
                                SuppressionOptions={"SuppressedReasons": ["BOUNCE"]})
    mid = send(fresh_server, ["complaint+b@simulator.amazonses.com"], ConfigurationSetName=name)
    wait_events(fresh_server, mid, "Complaint")
    time.sleep(0.3)
    assert listed(v2, "complaint+b@simulator.amazonses.com") is None
    # Without a configuration set the account's reasons (COMPLAINT included) apply.
    mid = send(fresh_server, ["complaint+c@simulator.amazonses.com"])
    wait_events(fresh_server, mid, "Complaint")
    assert listed(v2, "complaint+c@simulator.amazonses.com")["Reason"] == "COMPLAINT"


def test_simulator_bounce_is_never_added_but_a_relay_bounce_is(server_factory):
    sink = SmtpSink().start()
    try:
        srv = server_factory(extra_args=("--relay", f"smtp://{sink.url_hostport}"))
        v2 = srv.client("sesv2")
        v2.put_account_suppression_attributes(SuppressedReasons=["BOUNCE"])
        # SES documents that the simulator's bounce address is not put on the list.
        mid = send(srv, ["bounce@simulator.amazonses.com"])
        assert wait_events(srv, mid, "Bounce")[0]["bounce"]["bounceSubType"] == "General"
        assert listed(v2, "bounce@simulator.amazonses.com") is None
        # A real hard bounce from the relay is.
        mid = send(srv, ["refuse-sup@example.com"])
        bounce = wait_events(srv, mid, "Bounce")[0]["bounce"]
        got = listed(v2, "refuse-sup@example.com")
        assert got and got["Reason"] == "BOUNCE"
        assert got["Attributes"] == {"MessageId": mid, "FeedbackId": bounce["feedbackId"]}
        n = sink.attempts("refuse-sup@example.com")
        again = send(srv, ["refuse-sup@example.com"])
        assert wait_events(srv, again, "Bounce")[0]["bounce"]["bounceSubType"] == \
            "OnAccountSuppressionList"
        assert sink.attempts("refuse-sup@example.com") == n  # never offered to the relay again
    finally:
        sink.stop()
