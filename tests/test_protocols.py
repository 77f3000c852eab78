"""Wire protocols: unimplemented operations, error envelopes, request ids, newer routes, HTTP."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import urllib.parse

from helpers import (CW_VERSION, FORM, JSON, assert_error, form, send, signed_request, unique,
                     xml_find_all)

CW_JSON = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-mode": "true"}


# ---------------------------------------------------------------------------------------------
# Unimplemented operations answer an error naming the operation, never a 200


def test_v1_unimplemented_operation(ses):
    e = assert_error(ses.create_receipt_rule_set, "NotImplemented", 501, RuleSetName="rules",
                     message_has="CreateReceiptRuleSet")
    assert e.response["ResponseMetadata"]["RequestId"]


def test_v1_other_unimplemented_operations(ses):
    assert_error(ses.list_receipt_filters, "NotImplemented", 501,
                 message_has="ListReceiptFilters")
    assert_error(ses.list_custom_verification_email_templates, "NotImplemented", 501,
                 message_has="ListCustomVerificationEmailTemplates")


def test_v2_unimplemented_operation(sesv2):
    e = assert_error(sesv2.create_dedicated_ip_pool, "NotImplemented", 501, PoolName="pool",
                     message_has="CreateDedicatedIpPool")
    assert e.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith(
        "NotImplemented")


def test_v2_other_unimplemented_operation(sesv2):
    assert_error(sesv2.get_dedicated_ips, "NotImplemented", 501, message_has="GetDedicatedIps")


def test_cloudwatch_query_not_implemented(cloudwatch):
    e = assert_error(cloudwatch.describe_alarms, "NotImplemented", 501,
                     message_has="DescribeAlarms")
    assert e.response["ResponseMetadata"]["RequestId"]
    assert_error(cloudwatch.list_dashboards, "NotImplemented", 501, message_has="ListDashboards")


def test_cloudwatch_cli_not_implemented(aws_cli):
    rc, out, err = aws_cli("cloudwatch", "describe-alarms")
    assert rc != 0
    assert "NotImplemented" in err and "DescribeAlarms" in err


def test_cloudwatch_json_protocol_not_implemented(server):
    """awsJson1.0 with X-Amz-Target, as current boto3 / JS SDK send it."""
    h = {**CW_JSON, "X-Amz-Target": "GraniteServiceVersion20100801.DescribeAlarms"}
    r = server.signed("POST", "/", b"{}", h, service="monitoring")
    assert r.status == 501
    assert r.header("Content-Type").startswith("application/x-amz-json-1.0")
    body = r.json()
    assert "NotImplemented" in body["__type"]
    assert "DescribeAlarms" in body["message"]
    assert r.header("x-amzn-query-error").split(";")[0] == "NotImplemented"
    assert r.header("x-amzn-RequestId")


def test_cloudwatch_json_unknown_target(server):
    h = {**CW_JSON, "X-Amz-Target": "GraniteServiceVersion20100801.NoSuchThing"}
    r = server.signed("POST", "/", b"{}", h, service="monitoring")
    assert r.status == 400
    assert "NoSuchThing" in r.json()["message"]


def test_cloudwatch_gzip_body_is_decompressed_after_signature(server):
    payload = json.dumps({"AlarmNames": ["a"] * 50}).encode()
    h = {**CW_JSON, "X-Amz-Target": "GraniteServiceVersion20100801.DescribeAlarms",
         "Content-Encoding": "gzip"}
    r = server.signed("POST", "/", gzip.compress(payload, mtime=0), h, service="monitoring")
    assert r.status == 501, r.body
    assert "DescribeAlarms" in r.json()["message"]
    # not gzip at all: refused as a bad request, after the signature held
    r = server.signed("POST", "/", b"definitely not gzip", h, service="monitoring")
    assert r.status == 400
    assert r.header("x-amzn-query-error").split(";")[0] == "InvalidParameterValue"


def test_cloudwatch_query_gzip_body(server):
    body = gzip.compress(form("DescribeAlarms", version=CW_VERSION).encode(), mtime=0)
    r = server.signed("POST", "/", body, {**FORM, "Content-Encoding": "gzip"},
                      service="monitoring")
    assert r.status == 501, r.body
    assert "DescribeAlarms" in r.xml_error()["Message"]


# ---------------------------------------------------------------------------------------------
# Error envelopes and request ids


def test_query_error_is_xml_with_request_id(server):
    missing = unique("nope")
    r = server.signed("POST", "/", form("DeleteConfigurationSet",
                                        ConfigurationSetName=missing), FORM)
    assert r.status == 400
    assert r.header("Content-Type").startswith("text/xml")
    root = r.xml()
    assert root.tag.endswith("ErrorResponse")
    assert root.tag.startswith("{http://ses.amazonaws.com/doc/2010-12-01/}")
    err = r.xml_error()
    assert err["Type"] == "Sender"
    assert err["Code"] == "ConfigurationSetDoesNotExist"
    assert missing in err["Message"]
    assert err["RequestId"]
    assert r.header("x-amzn-RequestId") == err["RequestId"]


def test_query_success_envelope(server, ses):
    name = unique("env")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    r = server.signed("POST", "/", form("ListConfigurationSets"), FORM)
    assert r.status == 200
    root = r.xml()
    assert root.tag == "{http://ses.amazonaws.com/doc/2010-12-01/}ListConfigurationSetsResponse"
    names = [e.text for e in xml_find_all(root, "Name")]
    assert name in names
    assert xml_find_all(root, "ListConfigurationSetsResult")
    ids = xml_find_all(root, "RequestId")
    assert len(ids) == 1 and ids[0].text


def test_request_ids_are_fresh(server, ses, sesv2):
    ids = set()
    for _ in range(3):
        ids.add(ses.list_configuration_sets()["ResponseMetadata"]["RequestId"])
        ids.add(sesv2.list_configuration_sets()["ResponseMetadata"]["RequestId"])
    e = assert_error(ses.describe_configuration_set, "ConfigurationSetDoesNotExist", 400,
                     ConfigurationSetName=unique("x"))
    ids.add(e.response["ResponseMetadata"]["RequestId"])
    e = assert_error(sesv2.get_configuration_set, "NotFoundException", 404,
                     ConfigurationSetName=unique("x"))
    ids.add(e.response["ResponseMetadata"]["RequestId"])
    assert len(ids) == 8
    assert all(ids)


def test_unknown_action_is_invalid_action(server):
    r = server.signed("POST", "/", form("FlyToTheMoon"), FORM)
    assert r.status == 400
    err = r.xml_error()
    assert err["Code"] == "InvalidAction"
    assert "FlyToTheMoon" in err["Message"]


def test_missing_action(server):
    r = server.signed("POST", "/", "Version=2010-12-01", FORM)
    assert r.status == 400
    assert r.xml_error()["Code"] == "MissingAction"


def test_query_get_form(server, ses):
    """The Query protocol also accepts GET with the parameters in the query string."""
    name = unique("qget")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    qs = urllib.parse.urlencode({"Action": "DescribeConfigurationSet",
                                 "Version": "2010-12-01", "ConfigurationSetName": name})
    r = server.signed("GET", "/?" + qs)
    assert r.status == 200, r.body
    assert name in [e.text for e in xml_find_all(r.xml(), "Name")]


def test_unknown_rest_path(server):
    r = server.signed("GET", "/v2/email/no-such-resource")
    assert r.status == 404
    assert r.json_error_code() == "UnknownOperationException"
    assert "/v2/email/no-such-resource" in r.json()["message"]


def test_wrong_method_on_rest_path(server):
    r = server.signed("PATCH", "/v2/email/configuration-sets")
    assert r.status == 405
    assert r.json_error_code() == "MethodNotAllowedException"


# ---------------------------------------------------------------------------------------------
# The newer JS SDK v3 routes


def test_post_list_configuration_sets_route(server, sesv2):
    names = {unique("js") for _ in range(2)}
    for n in names:
        sesv2.create_configuration_set(ConfigurationSetName=n)
    r = server.signed("POST", "/v2/email/list-configuration-sets", b"{}", JSON)
    assert r.status == 200, r.body
    posted = r.json()
    got = sesv2.list_configuration_sets()
    assert posted["ConfigurationSets"] == got["ConfigurationSets"]
    assert names <= set(posted["ConfigurationSets"])


def test_post_list_configuration_sets_paging(fresh_server):
    names = sorted(unique("jsp") for _ in range(3))
    c = fresh_server.client("sesv2")
    for n in names:
        c.create_configuration_set(ConfigurationSetName=n)
    r = fresh_server.signed("POST", "/v2/email/list-configuration-sets",
                            json.dumps({"PageSize": 2}), JSON)
    assert r.status == 200, r.body
    first = r.json()
    assert len(first["ConfigurationSets"]) == 2 and first["NextToken"]
    r = fresh_server.signed("POST", "/v2/email/list-configuration-sets",
                            json.dumps({"PageSize": 2, "NextToken": first["NextToken"]}), JSON)
    second = r.json()
    assert sorted(first["ConfigurationSets"] + second["ConfigurationSets"]) == names
    # the GET route gives the same first page
    assert c.list_configuration_sets(PageSize=2)["ConfigurationSets"] == \
        first["ConfigurationSets"]


def test_post_list_identities_route(server, sesv2):
    a = f"{unique('js')}@example.com"
    sesv2.create_email_identity(EmailIdentity=a)
    r = server.signed("POST", "/v2/email/list-identities", b"{}", JSON)
    assert r.status == 200, r.body
    posted = r.json()["EmailIdentities"]
    got = sesv2.list_email_identities()["EmailIdentities"]
    assert posted == got
    assert a in [i["IdentityName"] for i in posted]


def test_js_sdk_style_signed_headers(server):
    """The JS SDK signs 8 headers including content-length and x-amz-content-sha256."""
    import hashlib
    body = b"{}"
    h = {"content-type": "application/json", "content-length": str(len(body)),
         "x-amz-content-sha256": hashlib.sha256(body).hexdigest(),
         "x-amz-user-agent": "aws-sdk-js/3.1175.0", "amz-sdk-invocation-id": unique("inv"),
         "amz-sdk-request": "attempt=1; max=1"}
    r = server.signed("POST", "/v2/email/list-configuration-sets", body, h)
    assert r.status == 200, r.body
    assert "ConfigurationSets" in r.json()


# ---------------------------------------------------------------------------------------------
# HTTP behaviour


def test_keep_alive_many_requests_one_client(server, ses, sesv2):
    name = unique("ka")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    for i in range(150):
        if i % 2:
            assert {"Name": name} in ses.list_configuration_sets()["ConfigurationSets"]
        else:
            assert sesv2.get_configuration_set(ConfigurationSetName=name)[
                "ConfigurationSetName"] == name


def test_keep_alive_one_connection(server):
    """Several signed requests, including errors, over a single TCP connection."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        socks = set()
        for i in range(20):
            if i % 3 == 0:
                r = signed_request(server.endpoint, "POST", "/", form("ListConfigurationSets"),
                                   FORM, key_id=server.key_id, secret=server.secret, conn=conn)
                assert r.status == 200
            elif i % 3 == 1:
                r = signed_request(server.endpoint, "GET",
                                   f"/v2/email/configuration-sets/{unique('nf')}",
                                   key_id=server.key_id, secret=server.secret, conn=conn)
                assert r.status == 404
            else:
                r = send(server.endpoint, "GET", "/health", conn=conn)
                assert r.status == 200
            socks.add(r.sock_id)
            assert r.header("Connection") != "close"
        assert len(socks) == 1, "the server closed a keep-alive connection"
    finally:
        conn.close()


def test_large_body_accepted(server):
    """A body over 1 MB is read whole and answered (unknown Query parameters are ignored)."""
    pad = "p" * (1_200_000)
    body = form("ListConfigurationSets") + "&Padding=" + pad
    r = server.signed("POST", "/", body, FORM)
    assert r.status == 200, r.body[:300]
    assert r.xml().tag.endswith("ListConfigurationSetsResponse")


def test_large_json_body_accepted(server):
    name = unique("big")
    tags = [{"Key": f"k{i}", "Value": "v" * 256} for i in range(50)]
    body = json.dumps({"ConfigurationSetName": name, "Tags": tags,
                       "Padding": "x" * 1_100_000})
    assert len(body) > 1_000_000
    r = server.signed("POST", "/v2/email/configuration-sets", body, JSON)
    assert r.status == 200, r.body[:300]
    r = server.signed("GET", f"/v2/email/configuration-sets/{name}")
    assert len(r.json()["Tags"]) == 50


def test_body_over_limit_is_413(server):
    """Announce a 49 MB body: refused with 413 without the client having to send it."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 51380224\r\n\r\n" + b"A" * 65536)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        assert data.startswith(b"HTTP/1.1 413"), data[:100]
    finally:
        s.close()
