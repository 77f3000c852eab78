"""Configuration sets and event destinations through the Debian AWS CLI v2 and boto3, SES v1 + v2."""

from __future__ import annotations

import datetime
import json

from helpers import (EVENTBUS_ARN, FIREHOSE_ARN, IAM_ROLE_ARN, JSON, PINPOINT_ARN, SNS_ARN,
                     V1_TO_V2_SOURCE, assert_error, cli_error_code, dim, strip_meta, unique,
                     v1_cw_destination, v2_cw_destination)

UTC = datetime.timezone.utc

THREE_DIMS_V1 = [
    {"DimensionName": "campaign", "DimensionValueSource": "messageTag",
     "DefaultDimensionValue": "none"},
    {"DimensionName": "X-Mailer-Id", "DimensionValueSource": "emailHeader",
     "DefaultDimensionValue": "unknown"},
    {"DimensionName": "product", "DimensionValueSource": "linkTag",
     "DefaultDimensionValue": "default"},
]
THREE_DIMS_V2 = [{**d, "DimensionValueSource": V1_TO_V2_SOURCE[d["DimensionValueSource"]]}
                 for d in THREE_DIMS_V1]
TYPES_V1 = ["send", "delivery", "open", "click"]
TYPES_V2 = ["SEND", "DELIVERY", "OPEN", "CLICK"]


def v1_three_dim_destination(name):
    return {"Name": name, "Enabled": True, "MatchingEventTypes": TYPES_V1,
            "CloudWatchDestination": {"DimensionConfigurations": THREE_DIMS_V1}}


# ---------------------------------------------------------------------------------------------
# The Debian AWS CLI v2


def test_cli_ses_v1_full_cycle(aws_cli):
    name = unique("cli1")
    dest = v1_three_dim_destination("cw3")

    rc, out, err = aws_cli("ses", "create-configuration-set", "--configuration-set",
                           f"Name={name}")
    assert rc == 0, err
    assert out is None  # empty result, as AWS

    rc, out, err = aws_cli("ses", "create-configuration-set-event-destination",
                           "--configuration-set-name", name,
                           "--event-destination", json.dumps(dest))
    assert rc == 0, err

    rc, out, err = aws_cli("ses", "describe-configuration-set", "--configuration-set-name",
                           name, "--configuration-set-attribute-names", "eventDestinations")
    assert rc == 0, err
    assert out == {"ConfigurationSet": {"Name": name}, "EventDestinations": [dest]}

    rc, out, err = aws_cli("ses", "list-configuration-sets")
    assert rc == 0, err
    assert {"Name": name} in out["ConfigurationSets"]

    updated = {**dest, "Enabled": False, "MatchingEventTypes": ["bounce", "complaint"],
               "CloudWatchDestination": {"DimensionConfigurations": [dim("ses:configuration-set",
                                                                         default=name)]}}
    rc, out, err = aws_cli("ses", "update-configuration-set-event-destination",
                           "--configuration-set-name", name,
                           "--event-destination", json.dumps(updated))
    assert rc == 0, err
    rc, out, err = aws_cli("ses", "describe-configuration-set", "--configuration-set-name",
                           name, "--configuration-set-attribute-names", "eventDestinations")
    assert rc == 0, err
    assert out["EventDestinations"] == [updated]

    rc, out, err = aws_cli("ses", "delete-configuration-set-event-destination",
                           "--configuration-set-name", name, "--event-destination-name", "cw3")
    assert rc == 0, err

    rc, out, err = aws_cli("ses", "delete-configuration-set", "--configuration-set-name", name)
    assert rc == 0, err
    rc, out, err = aws_cli("ses", "describe-configuration-set", "--configuration-set-name", name)
    assert rc != 0
    assert cli_error_code(err) == "ConfigurationSetDoesNotExist", err


def test_cli_ses_v1_pagination(fresh_server):
    ses = fresh_server.client("ses")
    names = sorted(unique("page") for _ in range(5))
    for n in names:
        ses.create_configuration_set(ConfigurationSet={"Name": n})
    # --page-size becomes MaxItems; the CLI follows NextToken until the end.
    rc, out, err = fresh_server.cli("ses", "list-configuration-sets", "--page-size", "2")
    assert rc == 0, err
    assert sorted(s["Name"] for s in out["ConfigurationSets"]) == names
    assert "NextToken" not in out
    # --max-items stops early and hands back a token to continue from.
    rc, first, err = fresh_server.cli("ses", "list-configuration-sets", "--max-items", "2",
                                      "--page-size", "2")
    assert rc == 0, err
    assert len(first["ConfigurationSets"]) == 2
    assert first.get("NextToken")
    rc, rest, err = fresh_server.cli("ses", "list-configuration-sets", "--starting-token",
                                     first["NextToken"], "--page-size", "2")
    assert rc == 0, err
    got = [s["Name"] for s in first["ConfigurationSets"] + rest["ConfigurationSets"]]
    assert sorted(got) == names
    assert len(set(got)) == 5


def test_cli_sesv2_full_cycle(aws_cli):
    name = unique("cli2")
    rc, out, err = aws_cli(
        "sesv2", "create-configuration-set", "--configuration-set-name", name,
        "--tracking-options", "CustomRedirectDomain=track.example.com",
        "--delivery-options", "TlsPolicy=REQUIRE",
        "--reputation-options", "ReputationMetricsEnabled=true",
        "--sending-options", "SendingEnabled=false",
        "--tags", "Key=team,Value=mail", "Key=env,Value=test",
        "--suppression-options", "SuppressedReasons=BOUNCE,COMPLAINT")
    assert rc == 0, err

    rc, out, err = aws_cli("sesv2", "get-configuration-set", "--configuration-set-name", name)
    assert rc == 0, err
    assert out["ConfigurationSetName"] == name
    assert out["TrackingOptions"] == {"CustomRedirectDomain": "track.example.com"}
    assert out["DeliveryOptions"]["TlsPolicy"] == "REQUIRE"
    assert out["ReputationOptions"]["ReputationMetricsEnabled"] is True
    assert out["SendingOptions"] == {"SendingEnabled": False}
    assert sorted(out["Tags"], key=lambda t: t["Key"]) == [{"Key": "env", "Value": "test"},
                                                           {"Key": "team", "Value": "mail"}]
    assert sorted(out["SuppressionOptions"]["SuppressedReasons"]) == ["BOUNCE", "COMPLAINT"]

    rc, out, err = aws_cli("sesv2", "list-configuration-sets")
    assert rc == 0, err
    assert name in out["ConfigurationSets"]

    definition = {"Enabled": True, "MatchingEventTypes": TYPES_V2,
                  "CloudWatchDestination": {"DimensionConfigurations": THREE_DIMS_V2}}
    rc, out, err = aws_cli("sesv2", "create-configuration-set-event-destination",
                           "--configuration-set-name", name, "--event-destination-name", "cw3",
                           "--event-destination", json.dumps(definition))
    assert rc == 0, err
    rc, out, err = aws_cli("sesv2", "get-configuration-set-event-destinations",
                           "--configuration-set-name", name)
    assert rc == 0, err
    assert out == {"EventDestinations": [{"Name": "cw3", **definition}]}

    changed = {"Enabled": False, "MatchingEventTypes": ["DELIVERY_DELAY", "SUBSCRIPTION"],
               "SnsDestination": {"TopicArn": SNS_ARN}}
    rc, out, err = aws_cli("sesv2", "update-configuration-set-event-destination",
                           "--configuration-set-name", name, "--event-destination-name", "cw3",
                           "--event-destination", json.dumps(changed))
    assert rc == 0, err
    rc, out, err = aws_cli("sesv2", "get-configuration-set-event-destinations",
                           "--configuration-set-name", name)
    assert rc == 0, err
    assert out == {"EventDestinations": [{"Name": "cw3", **changed}]}

    rc, out, err = aws_cli("sesv2", "delete-configuration-set-event-destination",
                           "--configuration-set-name", name, "--event-destination-name", "cw3")
    assert rc == 0, err
    rc, out, err = aws_cli("sesv2", "delete-configuration-set", "--configuration-set-name", name)
    assert rc == 0, err
    rc, out, err = aws_cli("sesv2", "get-configuration-set", "--configuration-set-name", name)
    assert rc != 0
    assert cli_error_code(err) == "NotFoundException", err


def test_cli_sesv2_page_size(fresh_server):
    ses = fresh_server.client("sesv2")
    names = sorted(unique("p2") for _ in range(3))
    for n in names:
        ses.create_configuration_set(ConfigurationSetName=n)
    rc, first, err = fresh_server.cli("sesv2", "list-configuration-sets", "--page-size", "2")
    assert rc == 0, err
    assert len(first["ConfigurationSets"]) == 2 and first["NextToken"]
    rc, second, err = fresh_server.cli("sesv2", "list-configuration-sets", "--page-size", "2",
                                       "--next-token", first["NextToken"])
    assert rc == 0, err
    assert "NextToken" not in second
    assert sorted(first["ConfigurationSets"] + second["ConfigurationSets"]) == names


def test_cli_error_for_duplicate_set(aws_cli):
    name = unique("dupcli")
    assert aws_cli("ses", "create-configuration-set", "--configuration-set", f"Name={name}")[0] == 0
    rc, out, err = aws_cli("ses", "create-configuration-set", "--configuration-set",
                           f"Name={name}")
    assert rc != 0
    assert cli_error_code(err) == "ConfigurationSetAlreadyExists", err
    rc, out, err = aws_cli("sesv2", "create-configuration-set", "--configuration-set-name", name)
    assert rc != 0
    assert cli_error_code(err) == "AlreadyExistsException", err


# ---------------------------------------------------------------------------------------------
# boto3, SES v1


def test_v1_create_describe_three_dimensions(ses):
    name = unique("b1")
    assert strip_meta(ses.create_configuration_set(ConfigurationSet={"Name": name})) == {}
    dest = v1_three_dim_destination("cw3")
    assert strip_meta(ses.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestination=dest)) == {}
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert strip_meta(got) == {"ConfigurationSet": {"Name": name}, "EventDestinations": [dest]}


def test_v1_describe_without_attribute_names_has_the_name(ses):
    name = unique("plain")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    got = ses.describe_configuration_set(ConfigurationSetName=name)
    assert got["ConfigurationSet"] == {"Name": name}
    assert got.get("EventDestinations", []) == []


def test_v1_describe_empty_destinations(ses):
    name = unique("nodest")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert got["ConfigurationSet"] == {"Name": name}
    assert got.get("EventDestinations", []) == []


def test_v1_several_destinations_keep_their_order_and_types(ses):
    name = unique("multi")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    cw = v1_cw_destination("a-cw", types=["renderingFailure", "reject"], enabled=False)
    sns = {"Name": "b_sns", "Enabled": True, "MatchingEventTypes": ["bounce", "complaint"],
           "SNSDestination": {"TopicARN": SNS_ARN}}
    fh = {"Name": "c-firehose", "Enabled": True, "MatchingEventTypes": ["delivery"],
          "KinesisFirehoseDestination": {"IAMRoleARN": IAM_ROLE_ARN,
                                         "DeliveryStreamARN": FIREHOSE_ARN}}
    for d in (cw, sns, fh):
        ses.create_configuration_set_event_destination(ConfigurationSetName=name,
                                                       EventDestination=d)
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert sorted(got["EventDestinations"], key=lambda d: d["Name"]) == [cw, sns, fh]


def test_v1_update_and_delete_destination(ses):
    name = unique("upd")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestination=v1_cw_destination("d1"))
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestination=v1_cw_destination("d2"))
    new = v1_cw_destination("d1", dims=[dim("ses:configuration-set", default=name),
                                        dim("From-Domain", "emailHeader", "example.com")],
                            types=["open", "click"], enabled=False)
    assert strip_meta(ses.update_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestination=new)) == {}
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    by_name = {d["Name"]: d for d in got["EventDestinations"]}
    assert by_name == {"d1": new, "d2": v1_cw_destination("d2")}

    assert strip_meta(ses.delete_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="d1")) == {}
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert [d["Name"] for d in got["EventDestinations"]] == ["d2"]


def test_v1_delete_set(ses):
    name = unique("del")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestination=v1_cw_destination("d"))
    assert strip_meta(ses.delete_configuration_set(ConfigurationSetName=name)) == {}
    assert {"Name": name} not in ses.list_configuration_sets()["ConfigurationSets"]
    assert_error(ses.describe_configuration_set, "ConfigurationSetDoesNotExist", 400,
                 ConfigurationSetName=name)
    # the name is free again, without the old destinations
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert got.get("EventDestinations", []) == []


def test_v1_list_pagination(fresh_server):
    ses = fresh_server.client("ses")
    names = sorted(unique("lp") for _ in range(7))
    for n in names:
        ses.create_configuration_set(ConfigurationSet={"Name": n})
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxItems": 3}
        if token:
            kw["NextToken"] = token
        page = ses.list_configuration_sets(**kw)
        pages += 1
        assert len(page["ConfigurationSets"]) <= 3
        seen += [s["Name"] for s in page["ConfigurationSets"]]
        token = page.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert pages == 3
    assert sorted(seen) == names and len(seen) == len(set(seen))
    # without MaxItems everything comes in one page
    everything = ses.list_configuration_sets()
    assert sorted(s["Name"] for s in everything["ConfigurationSets"]) == names
    assert "NextToken" not in everything
    # botocore's paginator agrees
    paged = [s["Name"] for p in ses.get_paginator("list_configuration_sets").paginate(
        PaginationConfig={"PageSize": 2}) for s in p["ConfigurationSets"]]
    assert sorted(paged) == names


def test_v1_describe_all_attribute_names(ses, sesv2):
    name = unique("attrs")
    fresh_start = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    sesv2.create_configuration_set(
        ConfigurationSetName=name,
        TrackingOptions={"CustomRedirectDomain": "clicks.example.com"},
        DeliveryOptions={"TlsPolicy": "REQUIRE"},
        ReputationOptions={"ReputationMetricsEnabled": True, "LastFreshStart": fresh_start},
        SendingOptions={"SendingEnabled": False})
    got = ses.describe_configuration_set(
        ConfigurationSetName=name,
        ConfigurationSetAttributeNames=["eventDestinations", "trackingOptions",
                                        "deliveryOptions", "reputationOptions"])
    assert got["ConfigurationSet"] == {"Name": name}
    assert got.get("EventDestinations", []) == []
    assert got["TrackingOptions"] == {"CustomRedirectDomain": "clicks.example.com"}
    assert got["DeliveryOptions"] == {"TlsPolicy": "Require"}
    assert got["ReputationOptions"]["SendingEnabled"] is False
    assert got["ReputationOptions"]["ReputationMetricsEnabled"] is True
    assert got["ReputationOptions"]["LastFreshStart"] == fresh_start
    # asking only for delivery options leaves the other groups out
    only = ses.describe_configuration_set(ConfigurationSetName=name,
                                          ConfigurationSetAttributeNames=["deliveryOptions"])
    assert "TrackingOptions" not in only and "ReputationOptions" not in only
    assert "EventDestinations" not in only


# ---------------------------------------------------------------------------------------------
# boto3, SES v2


def test_v2_create_with_options_and_get(sesv2):
    name = unique("opt")
    fresh_start = datetime.datetime(2023, 6, 7, 8, 9, 10, tzinfo=UTC)
    assert strip_meta(sesv2.create_configuration_set(
        ConfigurationSetName=name,
        TrackingOptions={"CustomRedirectDomain": "track.example.org"},
        DeliveryOptions={"TlsPolicy": "REQUIRE"},
        ReputationOptions={"ReputationMetricsEnabled": True, "LastFreshStart": fresh_start},
        SendingOptions={"SendingEnabled": False},
        Tags=[{"Key": "team", "Value": "mail"}, {"Key": "empty", "Value": ""}],
        SuppressionOptions={"SuppressedReasons": ["COMPLAINT"]})) == {}
    got = strip_meta(sesv2.get_configuration_set(ConfigurationSetName=name))
    assert got["ConfigurationSetName"] == name
    assert got["TrackingOptions"] == {"CustomRedirectDomain": "track.example.org"}
    assert got["DeliveryOptions"]["TlsPolicy"] == "REQUIRE"
    assert got["ReputationOptions"] == {"ReputationMetricsEnabled": True,
                                        "LastFreshStart": fresh_start}
    assert got["SendingOptions"] == {"SendingEnabled": False}
    assert sorted(got["Tags"], key=lambda t: t["Key"]) == [{"Key": "empty", "Value": ""},
                                                           {"Key": "team", "Value": "mail"}]
    assert got["SuppressionOptions"] == {"SuppressedReasons": ["COMPLAINT"]}


def test_v2_defaults_of_a_plain_set(sesv2):
    name = unique("defaults")
    sesv2.create_configuration_set(ConfigurationSetName=name)
    got = sesv2.get_configuration_set(ConfigurationSetName=name)
    assert got["ConfigurationSetName"] == name
    assert "TrackingOptions" not in got
    assert got["DeliveryOptions"]["TlsPolicy"] == "OPTIONAL"
    assert got["ReputationOptions"]["ReputationMetricsEnabled"] is False
    assert got["SendingOptions"] == {"SendingEnabled": True}
    assert got.get("Tags", []) == []


def test_v2_list_pagination(fresh_server):
    sesv2 = fresh_server.client("sesv2")
    names = sorted(unique("v2p") for _ in range(5))
    for n in names:
        sesv2.create_configuration_set(ConfigurationSetName=n)
    seen, token, sizes = [], None, []
    while True:
        kw = {"PageSize": 2}
        if token:
            kw["NextToken"] = token
        page = sesv2.list_configuration_sets(**kw)
        sizes.append(len(page["ConfigurationSets"]))
        seen += page["ConfigurationSets"]
        token = page.get("NextToken")
        if not token:
            break
        assert len(sizes) < 10
    assert sizes == [2, 2, 1]
    assert sorted(seen) == names


def test_v2_destinations_of_every_type(sesv2):
    name = unique("types")
    sesv2.create_configuration_set(ConfigurationSetName=name)
    defs = {
        "cw": v2_cw_destination(
            dims=[dim("campaign", "MESSAGE_TAG", "none"),
                  dim("X-Campaign", "EMAIL_HEADER", "unknown"),
                  dim("link", "LINK_TAG", "na")],
            types=["SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK",
                   "RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION"]),
        "sns": {"Enabled": True, "MatchingEventTypes": ["BOUNCE", "COMPLAINT"],
                "SnsDestination": {"TopicArn": SNS_ARN}},
        "firehose": {"Enabled": False, "MatchingEventTypes": ["DELIVERY"],
                     "KinesisFirehoseDestination": {"IamRoleArn": IAM_ROLE_ARN,
                                                    "DeliveryStreamArn": FIREHOSE_ARN}},
        "pinpoint": {"Enabled": True, "MatchingEventTypes": ["SEND", "OPEN"],
                     "PinpointDestination": {"ApplicationArn": PINPOINT_ARN}},
    }
    for dname, d in defs.items():
        assert strip_meta(sesv2.create_configuration_set_event_destination(
            ConfigurationSetName=name, EventDestinationName=dname, EventDestination=d)) == {}
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    by_name = {d["Name"]: d for d in got["EventDestinations"]}
    assert by_name == {n: {"Name": n, **d} for n, d in defs.items()}


def test_v2_eventbridge_destination_raw(server, sesv2):
    """EventBridge is in the newer models only (boto3 1.26 cannot send it): a raw signed call."""
    name = unique("eb")
    sesv2.create_configuration_set(ConfigurationSetName=name)
    body = {"EventDestinationName": "bus",
            "EventDestination": {"Enabled": True, "MatchingEventTypes": ["SEND"],
                                 "EventBridgeDestination": {"EventBusArn": EVENTBUS_ARN}}}
    r = server.signed("POST", f"/v2/email/configuration-sets/{name}/event-destinations",
                      json.dumps(body), JSON)
    assert r.status == 200, r.body
    r = server.signed("GET", f"/v2/email/configuration-sets/{name}/event-destinations")
    assert r.status == 200
    assert r.json()["EventDestinations"] == [
        {"Name": "bus", "Enabled": True, "MatchingEventTypes": ["SEND"],
         "EventBridgeDestination": {"EventBusArn": EVENTBUS_ARN}}]


def test_v2_update_destination(sesv2):
    name = unique("v2upd")
    sesv2.create_configuration_set(ConfigurationSetName=name)
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="d", EventDestination=v2_cw_destination())
    new = v2_cw_destination(dims=[dim("ses:configuration-set", "MESSAGE_TAG", name)],
                            types=["CLICK"], enabled=False)
    assert strip_meta(sesv2.update_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="d", EventDestination=new)) == {}
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    assert got["EventDestinations"] == [{"Name": "d", **new}]


def test_v2_delete_destination_and_set(sesv2):
    name = unique("v2del")
    sesv2.create_configuration_set(ConfigurationSetName=name)
    for d in ("one", "two"):
        sesv2.create_configuration_set_event_destination(
            ConfigurationSetName=name, EventDestinationName=d,
            EventDestination=v2_cw_destination())
    assert strip_meta(sesv2.delete_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="one")) == {}
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    assert [d["Name"] for d in got["EventDestinations"]] == ["two"]
    assert strip_meta(sesv2.delete_configuration_set(ConfigurationSetName=name)) == {}
    assert name not in sesv2.list_configuration_sets()["ConfigurationSets"]
    assert_error(sesv2.get_configuration_set, "NotFoundException", 404,
                 ConfigurationSetName=name)
    assert_error(sesv2.get_configuration_set_event_destinations, "NotFoundException", 404,
                 ConfigurationSetName=name)


# ---------------------------------------------------------------------------------------------
# v1 and v2 share one state


def test_created_with_v1_read_with_v2(ses, sesv2):
    name = unique("x12")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestination=v1_three_dim_destination("cw3"))
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=name,
        EventDestination={"Name": "sns", "Enabled": False,
                          "MatchingEventTypes": ["bounce", "renderingFailure"],
                          "SNSDestination": {"TopicARN": SNS_ARN}})
    assert name in sesv2.list_configuration_sets()["ConfigurationSets"]
    assert sesv2.get_configuration_set(ConfigurationSetName=name)["ConfigurationSetName"] == name
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    by_name = {d["Name"]: d for d in got["EventDestinations"]}
    assert by_name["cw3"] == {"Name": "cw3", "Enabled": True, "MatchingEventTypes": TYPES_V2,
                              "CloudWatchDestination": {"DimensionConfigurations":
                                                        THREE_DIMS_V2}}
    assert by_name["sns"] == {"Name": "sns", "Enabled": False,
                              "MatchingEventTypes": ["BOUNCE", "RENDERING_FAILURE"],
                              "SnsDestination": {"TopicArn": SNS_ARN}}
    # v2 changes what v1 made
    sesv2.delete_configuration_set_event_destination(ConfigurationSetName=name,
                                                     EventDestinationName="sns")
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert [d["Name"] for d in got["EventDestinations"]] == ["cw3"]
    sesv2.delete_configuration_set(ConfigurationSetName=name)
    assert_error(ses.describe_configuration_set, "ConfigurationSetDoesNotExist", 400,
                 ConfigurationSetName=name)


def test_created_with_v2_read_with_v1(ses, sesv2):
    name = unique("x21")
    sesv2.create_configuration_set(ConfigurationSetName=name)
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="cw",
        EventDestination=v2_cw_destination(
            dims=[dim("campaign", "MESSAGE_TAG", "none"), dim("X-Id", "EMAIL_HEADER", "a@b.c")],
            types=["SEND", "CLICK"]))
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="fh",
        EventDestination={"Enabled": True, "MatchingEventTypes": ["DELIVERY"],
                          "KinesisFirehoseDestination": {"IamRoleArn": IAM_ROLE_ARN,
                                                         "DeliveryStreamArn": FIREHOSE_ARN}})
    assert {"Name": name} in ses.list_configuration_sets()["ConfigurationSets"]
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    by_name = {d["Name"]: d for d in got["EventDestinations"]}
    assert by_name["cw"] == {
        "Name": "cw", "Enabled": True, "MatchingEventTypes": ["send", "click"],
        "CloudWatchDestination": {"DimensionConfigurations": [
            dim("campaign", "messageTag", "none"), dim("X-Id", "emailHeader", "a@b.c")]}}
    assert by_name["fh"] == {
        "Name": "fh", "Enabled": True, "MatchingEventTypes": ["delivery"],
        "KinesisFirehoseDestination": {"IAMRoleARN": IAM_ROLE_ARN,
                                       "DeliveryStreamARN": FIREHOSE_ARN}}
    # v1 updates what v2 made, v2 sees it
    ses.update_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestination=v1_cw_destination("cw", types=["open"]))
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    cw = [d for d in got["EventDestinations"] if d["Name"] == "cw"][0]
    assert cw["MatchingEventTypes"] == ["OPEN"]
    assert cw["CloudWatchDestination"]["DimensionConfigurations"] == [
        dim("campaign", "MESSAGE_TAG", "none")]
    ses.delete_configuration_set(ConfigurationSetName=name)
    assert_error(sesv2.get_configuration_set, "NotFoundException", 404,
                 ConfigurationSetName=name)


def test_v2_only_event_types_are_not_shown_to_v1(ses, sesv2):
    """DELIVERY_DELAY/SUBSCRIPTION have no v1 spelling: v1 still parses the set."""
    name = unique("v2only")
    sesv2.create_configuration_set(ConfigurationSetName=name)
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="d",
        EventDestination=v2_cw_destination(types=["SEND", "DELIVERY_DELAY", "SUBSCRIPTION"]))
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert got["EventDestinations"][0]["MatchingEventTypes"] == ["send"]
    v2 = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    assert v2["EventDestinations"][0]["MatchingEventTypes"] == ["SEND", "DELIVERY_DELAY",
                                                                "SUBSCRIPTION"]
