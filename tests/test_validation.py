"""Every invalid input of issue 2 with its AWS error code per API version (v1 Query, v2 REST-JSON)."""

from __future__ import annotations

import json

import pytest

from helpers import (FIREHOSE_ARN, FORM, IAM_ROLE_ARN, JSON, SNS_ARN, assert_error, dim,
                     form, form_items, unique, v1_cw_destination, v2_cw_destination)

V1_SOURCES = ("messageTag", "emailHeader", "linkTag")
V2_SOURCES = ("MESSAGE_TAG", "EMAIL_HEADER", "LINK_TAG")


@pytest.fixture
def v1_set(ses):
    name = unique("v1set")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    return name


@pytest.fixture
def v2_set(sesv2):
    name = unique("v2set")
    sesv2.create_configuration_set(ConfigurationSetName=name)
    return name


def v1_dest_count(ses, name):
    got = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    return len(got.get("EventDestinations", []))


def v2_dest_names(sesv2, name):
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    return [d["Name"] for d in got["EventDestinations"]]


# ---------------------------------------------------------------------------------------------
# Configuration set names

BAD_SET_NAMES = ["bad name", "bad.name", "x" * 65, "bad/name", "naïve", "semi;colon"]


@pytest.mark.parametrize("bad", BAD_SET_NAMES)
def test_v1_bad_set_name(ses, bad):
    assert_error(ses.create_configuration_set, "InvalidConfigurationSet", 400,
                 ConfigurationSet={"Name": bad}, message_has=bad)


@pytest.mark.parametrize("bad", BAD_SET_NAMES)
def test_v2_bad_set_name(sesv2, bad):
    assert_error(sesv2.create_configuration_set, "BadRequestException", 400,
                 ConfigurationSetName=bad, message_has=bad)


def test_bad_set_names_are_not_created(ses, sesv2):
    names = sesv2.list_configuration_sets()["ConfigurationSets"]
    for bad in BAD_SET_NAMES:
        assert bad not in names


def test_longest_and_odd_valid_set_names(ses, sesv2):
    suffix = unique("L").replace("-", "_")
    longest = (suffix + "x" * 64)[:64]
    ses.create_configuration_set(ConfigurationSet={"Name": longest})
    assert sesv2.get_configuration_set(ConfigurationSetName=longest)["ConfigurationSetName"] \
        == longest
    odd = "-_" + unique("AZaz09")
    sesv2.create_configuration_set(ConfigurationSetName=odd)
    assert {"Name": odd} in ses.list_configuration_sets()["ConfigurationSets"]


def test_duplicate_set(ses, sesv2, v1_set):
    assert_error(ses.create_configuration_set, "ConfigurationSetAlreadyExists", 400,
                 ConfigurationSet={"Name": v1_set}, message_has=v1_set)
    e = assert_error(sesv2.create_configuration_set, "AlreadyExistsException", 400,
                     ConfigurationSetName=v1_set, message_has=v1_set)
    assert isinstance(e, sesv2.exceptions.AlreadyExistsException)


def test_duplicate_set_is_modeled_exception_v1(ses, v1_set):
    with pytest.raises(ses.exceptions.ConfigurationSetAlreadyExistsException):
        ses.create_configuration_set(ConfigurationSet={"Name": v1_set})


# ---------------------------------------------------------------------------------------------
# Unknown configuration set


def test_v1_unknown_set(ses):
    missing = unique("missing")
    for call, kw in [
        (ses.describe_configuration_set, {"ConfigurationSetName": missing}),
        (ses.delete_configuration_set, {"ConfigurationSetName": missing}),
        (ses.create_configuration_set_event_destination,
         {"ConfigurationSetName": missing, "EventDestination": v1_cw_destination("d")}),
        (ses.update_configuration_set_event_destination,
         {"ConfigurationSetName": missing, "EventDestination": v1_cw_destination("d")}),
        (ses.delete_configuration_set_event_destination,
         {"ConfigurationSetName": missing, "EventDestinationName": "d"}),
    ]:
        e = assert_error(call, "ConfigurationSetDoesNotExist", 400, message_has=missing, **kw)
        assert isinstance(e, ses.exceptions.ConfigurationSetDoesNotExistException)


def test_v1_unknown_set_error_names_the_set_in_xml(server):
    missing = unique("missing")
    r = server.signed("POST", "/", form("DescribeConfigurationSet",
                                        ConfigurationSetName=missing), FORM)
    assert r.status == 400
    err = r.xml_error()
    assert err["Code"] == "ConfigurationSetDoesNotExist"
    assert err["Type"] == "Sender"
    assert missing in err["Message"]


def test_v2_unknown_set(sesv2):
    missing = unique("missing")
    for call, kw in [
        (sesv2.get_configuration_set, {"ConfigurationSetName": missing}),
        (sesv2.delete_configuration_set, {"ConfigurationSetName": missing}),
        (sesv2.get_configuration_set_event_destinations, {"ConfigurationSetName": missing}),
        (sesv2.create_configuration_set_event_destination,
         {"ConfigurationSetName": missing, "EventDestinationName": "d",
          "EventDestination": v2_cw_destination()}),
        (sesv2.update_configuration_set_event_destination,
         {"ConfigurationSetName": missing, "EventDestinationName": "d",
          "EventDestination": v2_cw_destination()}),
        (sesv2.delete_configuration_set_event_destination,
         {"ConfigurationSetName": missing, "EventDestinationName": "d"}),
    ]:
        e = assert_error(call, "NotFoundException", 404, message_has=missing, **kw)
        assert isinstance(e, sesv2.exceptions.NotFoundException)


def test_v2_not_found_wire_format(server):
    missing = unique("missing")
    r = server.signed("GET", f"/v2/email/configuration-sets/{missing}")
    assert r.status == 404
    assert r.header("x-amzn-ErrorType").split(":")[0] == "NotFoundException"
    assert missing in r.json()["message"]
    assert r.header("x-amzn-RequestId")


# ---------------------------------------------------------------------------------------------
# Event destinations: duplicates, unknown, limit


def test_duplicate_destination_v1(ses, v1_set):
    ses.create_configuration_set_event_destination(ConfigurationSetName=v1_set,
                                                   EventDestination=v1_cw_destination("dup"))
    e = assert_error(ses.create_configuration_set_event_destination,
                     "EventDestinationAlreadyExists", 400, ConfigurationSetName=v1_set,
                     EventDestination=v1_cw_destination("dup", types=["open"]), message_has="dup")
    assert isinstance(e, ses.exceptions.EventDestinationAlreadyExistsException)
    got = ses.describe_configuration_set(ConfigurationSetName=v1_set,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert got["EventDestinations"] == [v1_cw_destination("dup")]  # unchanged


def test_duplicate_destination_v2(sesv2, v2_set):
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=v2_set, EventDestinationName="dup",
        EventDestination=v2_cw_destination())
    assert_error(sesv2.create_configuration_set_event_destination, "AlreadyExistsException", 400,
                 ConfigurationSetName=v2_set, EventDestinationName="dup",
                 EventDestination=v2_cw_destination(), message_has="dup")


def test_unknown_destination_v1(ses, v1_set):
    ses.create_configuration_set_event_destination(ConfigurationSetName=v1_set,
                                                   EventDestination=v1_cw_destination("there"))
    e = assert_error(ses.update_configuration_set_event_destination,
                     "EventDestinationDoesNotExist", 400, ConfigurationSetName=v1_set,
                     EventDestination=v1_cw_destination("ghost"), message_has="ghost")
    assert isinstance(e, ses.exceptions.EventDestinationDoesNotExistException)
    assert_error(ses.delete_configuration_set_event_destination,
                 "EventDestinationDoesNotExist", 400, ConfigurationSetName=v1_set,
                 EventDestinationName="ghost", message_has="ghost")
    assert v1_dest_count(ses, v1_set) == 1


def test_unknown_destination_v2(sesv2, v2_set):
    assert_error(sesv2.update_configuration_set_event_destination, "NotFoundException", 404,
                 ConfigurationSetName=v2_set, EventDestinationName="ghost",
                 EventDestination=v2_cw_destination(), message_has="ghost")
    assert_error(sesv2.delete_configuration_set_event_destination, "NotFoundException", 404,
                 ConfigurationSetName=v2_set, EventDestinationName="ghost",
                 message_has="ghost")
    assert v2_dest_names(sesv2, v2_set) == []


def test_eleventh_destination_v1(ses, v1_set):
    for i in range(10):
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=v1_set, EventDestination=v1_cw_destination(f"d{i}"))
    e = assert_error(ses.create_configuration_set_event_destination, "LimitExceeded", 400,
                     ConfigurationSetName=v1_set, EventDestination=v1_cw_destination("d10"))
    assert isinstance(e, ses.exceptions.LimitExceededException)
    assert v1_dest_count(ses, v1_set) == 10
    # deleting one makes room again
    ses.delete_configuration_set_event_destination(ConfigurationSetName=v1_set,
                                                   EventDestinationName="d0")
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=v1_set, EventDestination=v1_cw_destination("d10"))
    assert v1_dest_count(ses, v1_set) == 10


def test_eleventh_destination_v2(sesv2, v2_set):
    for i in range(10):
        sesv2.create_configuration_set_event_destination(
            ConfigurationSetName=v2_set, EventDestinationName=f"d{i}",
            EventDestination=v2_cw_destination())
    assert_error(sesv2.create_configuration_set_event_destination, "LimitExceededException",
                 400, ConfigurationSetName=v2_set, EventDestinationName="d10",
                 EventDestination=v2_cw_destination())
    assert len(v2_dest_names(sesv2, v2_set)) == 10


@pytest.mark.parametrize("bad", ["bad name", "bad.dest", "d" * 65])
def test_bad_destination_name(ses, sesv2, v1_set, v2_set, bad):
    assert_error(ses.create_configuration_set_event_destination, "InvalidCloudWatchDestination",
                 400, ConfigurationSetName=v1_set, EventDestination=v1_cw_destination(bad),
                 message_has=bad)
    assert_error(sesv2.create_configuration_set_event_destination, "BadRequestException", 400,
                 ConfigurationSetName=v2_set, EventDestinationName=bad,
                 EventDestination=v2_cw_destination(), message_has=bad)


# ---------------------------------------------------------------------------------------------
# CloudWatch dimensions


def _v1_bad_cw(ses, set_name, dims, message_has=(), types=("send",)):
    e = assert_error(ses.create_configuration_set_event_destination,
                     "InvalidCloudWatchDestination", 400, ConfigurationSetName=set_name,
                     EventDestination=v1_cw_destination(unique("cw"), dims=dims, types=types),
                     message_has=message_has)
    assert isinstance(e, ses.exceptions.InvalidCloudWatchDestinationException)
    return e


def _v2_bad_cw(sesv2, set_name, dims, message_has=(), types=("SEND",)):
    return assert_error(sesv2.create_configuration_set_event_destination,
                        "BadRequestException", 400, ConfigurationSetName=set_name,
                        EventDestinationName=unique("cw"),
                        EventDestination=v2_cw_destination(dims=dims, types=types),
                        message_has=message_has)


def test_eleven_dimensions(ses, sesv2, v1_set, v2_set):
    _v1_bad_cw(ses, v1_set, [dim(f"d{i}") for i in range(11)], message_has="11")
    _v2_bad_cw(sesv2, v2_set, [dim(f"d{i}", "MESSAGE_TAG") for i in range(11)],
               message_has="11")
    assert v1_dest_count(ses, v1_set) == 0
    assert v2_dest_names(sesv2, v2_set) == []


def test_ten_dimensions_accepted(ses, sesv2, v1_set, v2_set):
    dims = [dim(f"d{i}") for i in range(10)]
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=v1_set, EventDestination=v1_cw_destination("ten", dims=dims))
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=v2_set, EventDestinationName="ten",
        EventDestination=v2_cw_destination(dims=[dim(f"d{i}", "MESSAGE_TAG") for i in range(10)]))
    got = ses.describe_configuration_set(ConfigurationSetName=v1_set,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert got["EventDestinations"][0]["CloudWatchDestination"]["DimensionConfigurations"] == dims


BAD_DIMENSION_NAMES = ["my dim", "dim!", "dim.name", "dim/x", "dim@x", "déj", "x" * 257, "tab\tx"]


@pytest.mark.parametrize("bad", BAD_DIMENSION_NAMES)
def test_bad_dimension_name(ses, sesv2, v1_set, v2_set, bad):
    _v1_bad_cw(ses, v1_set, [dim(bad)], message_has=bad)
    _v2_bad_cw(sesv2, v2_set, [dim(bad, "MESSAGE_TAG")], message_has=bad)


def test_dimension_name_limits_and_colons_accepted(ses, sesv2, v1_set, v2_set):
    dims = [dim("ses:configuration-set", default=v1_set), dim("ses:from-domain"),
            dim("n" * 256), dim("A-Za_z09:x")]
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=v1_set, EventDestination=v1_cw_destination("ok", dims=dims))
    got = ses.describe_configuration_set(ConfigurationSetName=v1_set,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert got["EventDestinations"][0]["CloudWatchDestination"]["DimensionConfigurations"] == dims
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=v2_set, EventDestinationName="ok",
        EventDestination=v2_cw_destination(dims=[dim("ses:caller-identity", "MESSAGE_TAG")]))
    assert v2_dest_names(sesv2, v2_set) == ["ok"]


BAD_DEFAULT_VALUES = ["has space", "hash#tag", "x" * 257, "semi;colon", "a/b", "ünï"]


@pytest.mark.parametrize("bad", BAD_DEFAULT_VALUES)
def test_bad_default_value(ses, sesv2, v1_set, v2_set, bad):
    _v1_bad_cw(ses, v1_set, [dim("campaign", default=bad)], message_has=bad[:40])
    _v2_bad_cw(sesv2, v2_set, [dim("campaign", "MESSAGE_TAG", bad)], message_has=bad[:40])


def test_default_values_with_at_and_dot_accepted(ses, sesv2, v1_set, v2_set):
    dims = [dim("sender", "emailHeader", "user.name@example.com"), dim("v", default="1.2.3"),
            dim("long", default="v" * 256)]
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=v1_set, EventDestination=v1_cw_destination("at", dims=dims))
    got = ses.describe_configuration_set(ConfigurationSetName=v1_set,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert got["EventDestinations"][0]["CloudWatchDestination"]["DimensionConfigurations"] == dims
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=v2_set, EventDestinationName="at",
        EventDestination=v2_cw_destination(dims=[dim("s", "EMAIL_HEADER", "a.b@c.d")]))
    assert v2_dest_names(sesv2, v2_set) == ["at"]


def test_empty_default_value_rejected(ses, sesv2, v1_set, v2_set):
    _v1_bad_cw(ses, v1_set, [dim("campaign", default="")])
    _v2_bad_cw(sesv2, v2_set, [dim("campaign", "MESSAGE_TAG", "")])


@pytest.mark.parametrize("source", ["header", "MESSAGE_TAG", "messagetag", "linkTags", ""])
def test_bad_value_source_v1(ses, v1_set, source):
    _v1_bad_cw(ses, v1_set, [dim("campaign", source)])


@pytest.mark.parametrize("source", ["header", "messageTag", "message_tag", "LINK_TAGS"])
def test_bad_value_source_v2(sesv2, v2_set, source):
    e = _v2_bad_cw(sesv2, v2_set, [dim("campaign", source)])
    assert source in e.response["Error"]["Message"]


FORBIDDEN_HEADERS = ["Received", "To", "From", "DKIM-Signature", "CC", "message-id",
                     "Return-Path", "to", "FROM", "Message-ID", "received", "cc", "Cc",
                     "dkim-signature", "RETURN-PATH", "fRoM"]


@pytest.mark.parametrize("header", FORBIDDEN_HEADERS)
def test_forbidden_email_header_dimension(ses, sesv2, v1_set, v2_set, header):
    _v1_bad_cw(ses, v1_set, [dim(header, "emailHeader", "x")], message_has=header)
    _v2_bad_cw(sesv2, v2_set, [dim(header, "EMAIL_HEADER", "x")], message_has=header)
    assert v1_dest_count(ses, v1_set) == 0


def test_forbidden_header_names_fine_with_other_sources(ses, sesv2, v1_set, v2_set):
    names = ["Received", "To", "From", "DKIM-Signature", "CC", "message-id", "Return-Path"]
    dims = [dim(n, "messageTag", "x") for n in names] + [dim("FROM2", "emailHeader", "x"),
                                                         dim("Subject", "emailHeader", "x"),
                                                         dim("Reply-To", "linkTag", "x")]
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=v1_set,
        EventDestination=v1_cw_destination("tags", dims=dims, types=["click"]))
    assert v1_dest_count(ses, v1_set) == 1
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=v2_set, EventDestinationName="tags",
        EventDestination=v2_cw_destination(
            dims=[dim(n, "MESSAGE_TAG", "x") for n in names[:-1]] +
            [dim(names[-1], "LINK_TAG", "x")],
            types=["CLICK"]))
    assert v2_dest_names(sesv2, v2_set) == ["tags"]


def test_forbidden_header_on_update_also_rejected(ses, sesv2, v1_set, v2_set):
    ses.create_configuration_set_event_destination(ConfigurationSetName=v1_set,
                                                   EventDestination=v1_cw_destination("u"))
    assert_error(ses.update_configuration_set_event_destination, "InvalidCloudWatchDestination",
                 400, ConfigurationSetName=v1_set,
                 EventDestination=v1_cw_destination("u", dims=[dim("To", "emailHeader")]))
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=v2_set, EventDestinationName="u", EventDestination=v2_cw_destination())
    assert_error(sesv2.update_configuration_set_event_destination, "BadRequestException", 400,
                 ConfigurationSetName=v2_set, EventDestinationName="u",
                 EventDestination=v2_cw_destination(dims=[dim("Received", "EMAIL_HEADER")]))
    # the stored destinations are unchanged
    got = ses.describe_configuration_set(ConfigurationSetName=v1_set,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert got["EventDestinations"] == [v1_cw_destination("u")]
    v2 = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=v2_set)
    assert v2["EventDestinations"] == [{"Name": "u", **v2_cw_destination()}]


def test_cloudwatch_destination_without_dimensions(ses, sesv2, v1_set, v2_set):
    _v1_bad_cw(ses, v1_set, [])
    _v2_bad_cw(sesv2, v2_set, [])


# ---------------------------------------------------------------------------------------------
# Event types per API version


@pytest.mark.parametrize("etype", ["deliveryDelay", "subscription", "SEND", "Send", "bogus"])
def test_v1_rejects_event_types_it_lacks(ses, v1_set, etype):
    assert_error(ses.create_configuration_set_event_destination, "InvalidParameterValue", 400,
                 ConfigurationSetName=v1_set,
                 EventDestination=v1_cw_destination("et", types=["send", etype]),
                 message_has=etype)
    assert v1_dest_count(ses, v1_set) == 0


def test_v1_accepts_all_its_event_types(ses, v1_set):
    types = ["send", "reject", "bounce", "complaint", "delivery", "open", "click",
             "renderingFailure"]
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=v1_set, EventDestination=v1_cw_destination("all", types=types))
    got = ses.describe_configuration_set(ConfigurationSetName=v1_set,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert got["EventDestinations"][0]["MatchingEventTypes"] == types


def test_v2_accepts_delivery_delay_and_subscription(sesv2, v2_set):
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=v2_set, EventDestinationName="dd",
        EventDestination=v2_cw_destination(types=["DELIVERY_DELAY", "SUBSCRIPTION"]))
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=v2_set)
    assert got["EventDestinations"][0]["MatchingEventTypes"] == ["DELIVERY_DELAY",
                                                                 "SUBSCRIPTION"]


@pytest.mark.parametrize("etype", ["send", "deliveryDelay", "RENDERINGFAILURE", "bogus"])
def test_v2_rejects_unknown_event_types(sesv2, v2_set, etype):
    assert_error(sesv2.create_configuration_set_event_destination, "BadRequestException", 400,
                 ConfigurationSetName=v2_set, EventDestinationName="et",
                 EventDestination=v2_cw_destination(types=["SEND", etype]), message_has=etype)


# ---------------------------------------------------------------------------------------------
# Exactly one destination target


def test_v1_no_destination_target(ses, v1_set):
    assert_error(ses.create_configuration_set_event_destination, "InvalidParameterValue", 400,
                 ConfigurationSetName=v1_set,
                 EventDestination={"Name": "none", "Enabled": True,
                                   "MatchingEventTypes": ["send"]}, message_has="none")
    assert v1_dest_count(ses, v1_set) == 0


def test_v1_two_destination_targets(ses, v1_set):
    d = v1_cw_destination("two")
    d["SNSDestination"] = {"TopicARN": SNS_ARN}
    assert_error(ses.create_configuration_set_event_destination, "InvalidParameterValue", 400,
                 ConfigurationSetName=v1_set, EventDestination=d, message_has="two")
    assert v1_dest_count(ses, v1_set) == 0


def test_v2_no_destination_target(sesv2, v2_set):
    assert_error(sesv2.create_configuration_set_event_destination, "BadRequestException", 400,
                 ConfigurationSetName=v2_set, EventDestinationName="none",
                 EventDestination={"Enabled": True, "MatchingEventTypes": ["SEND"]})
    assert v2_dest_names(sesv2, v2_set) == []


def test_v2_two_destination_targets(sesv2, v2_set):
    d = v2_cw_destination()
    d["SnsDestination"] = {"TopicArn": SNS_ARN}
    assert_error(sesv2.create_configuration_set_event_destination, "BadRequestException", 400,
                 ConfigurationSetName=v2_set, EventDestinationName="two", EventDestination=d)
    assert v2_dest_names(sesv2, v2_set) == []


# ---------------------------------------------------------------------------------------------
# ARNs

BAD_SNS_ARNS = ["not-an-arn", "arn:aws:sqs:us-east-1:123456789012:queue",
                "arn:aws:sns:us-east-1:12345:topic", "arn:aws:sns:us-east-1:123456789012:",
                "arn:aws:sns::123456789012:topic"]


@pytest.mark.parametrize("arn", BAD_SNS_ARNS)
def test_bad_sns_arn(ses, sesv2, v1_set, v2_set, arn):
    e = assert_error(ses.create_configuration_set_event_destination, "InvalidSNSDestination", 400,
                     ConfigurationSetName=v1_set,
                     EventDestination={"Name": "sns", "Enabled": True,
                                       "MatchingEventTypes": ["bounce"],
                                       "SNSDestination": {"TopicARN": arn}},
                     message_has=arn)
    assert isinstance(e, ses.exceptions.InvalidSNSDestinationException)
    assert_error(sesv2.create_configuration_set_event_destination, "BadRequestException", 400,
                 ConfigurationSetName=v2_set, EventDestinationName="sns",
                 EventDestination={"Enabled": True, "MatchingEventTypes": ["BOUNCE"],
                                   "SnsDestination": {"TopicArn": arn}}, message_has=arn)


def test_good_sns_arn_in_other_partition(ses, v1_set):
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=v1_set,
        EventDestination={"Name": "cn", "Enabled": True, "MatchingEventTypes": ["bounce"],
                          "SNSDestination": {"TopicARN":
                                             "arn:aws-cn:sns:cn-north-1:123456789012:t"}})
    assert v1_dest_count(ses, v1_set) == 1


def test_bad_firehose_arns(ses, sesv2, v1_set, v2_set):
    e = assert_error(ses.create_configuration_set_event_destination,
                     "InvalidFirehoseDestination", 400, ConfigurationSetName=v1_set,
                     EventDestination={"Name": "fh", "Enabled": True,
                                       "MatchingEventTypes": ["send"],
                                       "KinesisFirehoseDestination": {
                                           "IAMRoleARN": IAM_ROLE_ARN,
                                           "DeliveryStreamARN": "stream-please"}},
                     message_has="stream-please")
    assert isinstance(e, ses.exceptions.InvalidFirehoseDestinationException)
    assert_error(ses.create_configuration_set_event_destination,
                 "InvalidFirehoseDestination", 400, ConfigurationSetName=v1_set,
                 EventDestination={"Name": "fh", "Enabled": True, "MatchingEventTypes": ["send"],
                                   "KinesisFirehoseDestination": {
                                       "IAMRoleARN": "role", "DeliveryStreamARN": FIREHOSE_ARN}},
                 message_has="role")
    assert_error(sesv2.create_configuration_set_event_destination, "BadRequestException", 400,
                 ConfigurationSetName=v2_set, EventDestinationName="fh",
                 EventDestination={"Enabled": True, "MatchingEventTypes": ["SEND"],
                                   "KinesisFirehoseDestination": {
                                       "IamRoleArn": IAM_ROLE_ARN,
                                       "DeliveryStreamArn": SNS_ARN}})


def test_bad_pinpoint_arn_v2(sesv2, v2_set):
    assert_error(sesv2.create_configuration_set_event_destination, "BadRequestException", 400,
                 ConfigurationSetName=v2_set, EventDestinationName="pp",
                 EventDestination={"Enabled": True, "MatchingEventTypes": ["SEND"],
                                   "PinpointDestination": {"ApplicationArn": "app-123"}},
                 message_has="app-123")


# ---------------------------------------------------------------------------------------------
# Missing required members and other raw-wire validation (botocore checks these client-side)


def test_v1_missing_set_name_raw(server):
    r = server.signed("POST", "/", form("CreateConfigurationSet"), FORM)
    assert r.status == 400
    err = r.xml_error()
    assert err["Code"] == "MissingParameter"
    assert "ConfigurationSet" in err["Message"]


def test_v1_missing_dimension_member_raw(server, v1_set):
    prefix = "EventDestination.CloudWatchDestination.DimensionConfigurations.member.1."
    body = form_items("CreateConfigurationSetEventDestination", [
        ("ConfigurationSetName", v1_set), ("EventDestination.Name", "raw"),
        ("EventDestination.Enabled", "true"),
        ("EventDestination.MatchingEventTypes.member.1", "send"),
        (prefix + "DimensionName", "campaign"), (prefix + "DimensionValueSource", "messageTag"),
    ])
    r = server.signed("POST", "/", body, FORM)
    assert r.status == 400
    err = r.xml_error()
    assert err["Code"] == "InvalidCloudWatchDestination"
    assert "DefaultDimensionValue" in err["Message"]


def test_v2_missing_set_name_raw(server):
    r = server.signed("POST", "/v2/email/configuration-sets", json.dumps({"Tags": []}), JSON)
    assert r.status == 400
    assert r.json_error_code() == "BadRequestException"
    assert "ConfigurationSetName" in r.json()["message"]


def test_v2_malformed_json_raw(server):
    r = server.signed("POST", "/v2/email/configuration-sets", "{not json", JSON)
    assert r.status == 400
    assert r.json_error_code() == "BadRequestException"


def test_v2_wrong_json_type_raw(server):
    r = server.signed("POST", "/v2/email/configuration-sets",
                      json.dumps({"ConfigurationSetName": 42}), JSON)
    assert r.status == 400
    assert r.json_error_code() == "BadRequestException"


def test_bad_next_token(ses, sesv2):
    assert_error(ses.list_configuration_sets, "InvalidParameterValue", 400, NextToken="!!!*")
    assert_error(sesv2.list_configuration_sets, "BadRequestException", 400, NextToken="!!!*")


def test_v2_tag_limits(sesv2):
    assert_error(sesv2.create_configuration_set, "BadRequestException", 400,
                 ConfigurationSetName=unique("tags"), Tags=[{"Key": "k" * 129, "Value": "v"}])
    assert_error(sesv2.create_configuration_set, "BadRequestException", 400,
                 ConfigurationSetName=unique("tags"), Tags=[{"Key": "", "Value": "v"}])
    assert_error(sesv2.create_configuration_set, "BadRequestException", 400,
                 ConfigurationSetName=unique("tags"), Tags=[{"Key": "k", "Value": "v" * 257}])
