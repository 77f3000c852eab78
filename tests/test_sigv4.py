"""SigV4 verification: every refusal in the caller's protocol, and refused requests change nothing."""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request

import pytest

from helpers import (FORM, JSON, assert_error, form, presigned_url, send, sign_headers,
                     signed_request, unique)

V1_LIST = form("ListConfigurationSets")


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


# ---------------------------------------------------------------------------------------------
# Missing authentication


def test_unsigned_v1_is_missing_authentication_token_xml(server):
    r = server.raw("POST", "/", V1_LIST, FORM)
    assert r.status == 403
    assert r.header("Content-Type").startswith("text/xml")
    err = r.xml_error()
    assert err["Code"] == "MissingAuthenticationToken"
    assert err["Type"] == "Sender"
    assert err["Message"]
    assert err["RequestId"]


def test_unsigned_v2_is_missing_authentication_token_json(server):
    r = server.raw("GET", "/v2/email/configuration-sets")
    assert r.status == 403
    assert r.json_error_code() == "MissingAuthenticationToken"
    assert r.header("Content-Type").startswith("application/json")
    assert "message" in r.json() or "Message" in r.json()


def test_unsigned_v2_post_is_refused(server):
    r = server.raw("POST", "/v2/email/configuration-sets",
                   json.dumps({"ConfigurationSetName": unique("u")}), JSON)
    assert r.status == 403
    assert r.json_error_code() == "MissingAuthenticationToken"


def test_unsigned_requests_are_refused_before_routing(server):
    """Every API request is authenticated first: unsigned callers learn nothing about routes."""
    r = server.raw("POST", "/", form("NoSuchAction"), FORM)
    assert (r.status, r.xml_error()["Code"]) == (403, "MissingAuthenticationToken"), r.body
    r = server.raw("GET", "/v2/email/no-such-resource")
    assert (r.status, r.json_error_code()) == (403, "MissingAuthenticationToken"), r.body


def test_unsigned_cloudwatch_query_is_refused(server):
    r = server.raw("POST", "/", form("ListMetrics", version="2010-08-01"), FORM)
    assert r.status == 403
    assert r.xml_error()["Code"] == "MissingAuthenticationToken"


# ---------------------------------------------------------------------------------------------
# Wrong secret / unknown key


def test_wrong_secret_v1(server):
    c = server.client("ses", server.key_id, server.secret + "x")
    assert_error(c.list_configuration_sets, "SignatureDoesNotMatch", 403)


def test_wrong_secret_v2(server):
    c = server.client("sesv2", server.key_id, "wrong" + server.secret)
    assert_error(c.list_configuration_sets, "SignatureDoesNotMatch", 403)


def test_wrong_secret_cli(aws_cli, server):
    rc, out, err = server.cli("ses", "list-configuration-sets", secret=server.secret + "x")
    assert rc != 0
    assert "SignatureDoesNotMatch" in err


def test_unknown_key_v1(server):
    c = server.client("ses", "MTLYUNKNOWNKEY00000", server.secret)
    assert_error(c.list_configuration_sets, "InvalidClientTokenId", 403)


def test_unknown_key_v2(server):
    c = server.client("sesv2", "MTLYUNKNOWNKEY00000", server.secret)
    assert_error(c.list_configuration_sets, "InvalidClientTokenId", 403)


def test_unknown_key_cli(server):
    rc, out, err = server.cli("sesv2", "list-configuration-sets", key_id="AKIDNOSUCHKEY")
    assert rc != 0
    assert "InvalidClientTokenId" in err


def test_tampered_body_is_signature_mismatch(server):
    body = form("CreateConfigurationSet", **{"ConfigurationSet.Name": unique("tamper")})
    h = sign_headers("POST", server.endpoint + "/", body.encode(), FORM, key_id=server.key_id,
                     secret=server.secret)
    other = form("CreateConfigurationSet", **{"ConfigurationSet.Name": unique("tamper")})
    r = send(server.endpoint, "POST", "/", other, h)
    assert r.status == 403
    assert r.xml_error()["Code"] == "SignatureDoesNotMatch"


def test_wrong_service_in_scope_is_refused(server):
    r = signed_request(server.endpoint, "GET", "/v2/email/configuration-sets",
                       key_id=server.key_id, secret=server.secret, service="sqs")
    assert r.status == 403
    assert r.json_error_code() == "SignatureDoesNotMatch"
    assert "ses" in r.json()["message"]


def test_any_region_is_accepted(server):
    r = signed_request(server.endpoint, "GET", "/v2/email/configuration-sets",
                       key_id=server.key_id, secret=server.secret, region="eu-west-3")
    assert r.status == 200, r.body


# ---------------------------------------------------------------------------------------------
# Clock skew


def test_stale_request_v1_is_request_expired(server):
    when = _utcnow() - datetime.timedelta(minutes=20)
    r = server.signed("POST", "/", V1_LIST, FORM, when=when)
    assert r.status == 400
    err = r.xml_error()
    assert err["Code"] == "RequestExpired"
    assert err["RequestId"]


def test_stale_request_v2_is_request_expired(server):
    when = _utcnow() - datetime.timedelta(minutes=20)
    r = server.signed("GET", "/v2/email/configuration-sets", when=when)
    assert r.status == 400
    assert r.json_error_code() == "RequestExpired"


def test_future_request_is_request_expired(server):
    when = _utcnow() + datetime.timedelta(minutes=20)
    r = server.signed("GET", "/v2/email/configuration-sets", when=when)
    assert r.status == 400
    assert r.json_error_code() == "RequestExpired"


def test_ten_minutes_of_skew_is_accepted(server):
    for delta in (-10, 10):
        when = _utcnow() + datetime.timedelta(minutes=delta)
        r = server.signed("GET", "/v2/email/configuration-sets", when=when)
        assert r.status == 200, (delta, r.body)


# ---------------------------------------------------------------------------------------------
# Incomplete signatures


def _amz_date():
    return _utcnow().strftime("%Y%m%dT%H%M%SZ")


def test_partial_authorization_header_v1(server):
    date = _amz_date()
    h = dict(FORM)
    h["X-Amz-Date"] = date
    h["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={server.key_id}/{date[:8]}/us-east-1/"
                          f"ses/aws4_request")
    r = send(server.endpoint, "POST", "/", V1_LIST, h)
    assert r.status == 400
    err = r.xml_error()
    assert err["Code"] == "IncompleteSignature"
    assert "Signature" in err["Message"]


def test_partial_authorization_header_v2(server):
    date = _amz_date()
    h = {"X-Amz-Date": date,
         "Authorization": f"AWS4-HMAC-SHA256 Credential={server.key_id}/{date[:8]}/us-east-1/"
                          f"ses/aws4_request, SignedHeaders=host;x-amz-date"}
    r = send(server.endpoint, "GET", "/v2/email/configuration-sets", b"", h)
    assert r.status == 400
    assert r.json_error_code() == "IncompleteSignature"


def test_authorization_without_date_is_incomplete(server):
    h = sign_headers("GET", server.endpoint + "/v2/email/configuration-sets", b"", {},
                     key_id=server.key_id, secret=server.secret)
    h.pop("X-Amz-Date")
    r = send(server.endpoint, "GET", "/v2/email/configuration-sets", b"", h)
    assert r.status == 400
    assert r.json_error_code() == "IncompleteSignature"


def test_bad_credential_scope_is_incomplete(server):
    date = _amz_date()
    h = {"X-Amz-Date": date,
         "Authorization": f"AWS4-HMAC-SHA256 Credential={server.key_id}/{date[:8]}/us-east-1, "
                          f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}"}
    r = send(server.endpoint, "GET", "/v2/email/configuration-sets", b"", h)
    assert r.status == 400
    assert r.json_error_code() == "IncompleteSignature"


# ---------------------------------------------------------------------------------------------
# Refused requests change nothing


def test_refused_creates_change_nothing(fresh_server):
    srv = fresh_server
    ep = srv.endpoint
    names = {}

    def v1_body(tag):
        names[tag] = unique(tag)
        return form("CreateConfigurationSet", **{"ConfigurationSet.Name": names[tag]})

    def v2_body(tag):
        names[tag] = unique(tag)
        return json.dumps({"ConfigurationSetName": names[tag]})

    stale = _utcnow() - datetime.timedelta(minutes=20)
    date = _amz_date()
    partial = {"X-Amz-Date": date,
               "Authorization": f"AWS4-HMAC-SHA256 Credential={srv.key_id}/{date[:8]}/"
                                f"us-east-1/ses/aws4_request"}
    refusals = [
        # (response, expected status, expected code)
        (send(ep, "POST", "/", v1_body("unsigned1"), FORM), 403, "MissingAuthenticationToken"),
        (send(ep, "POST", "/v2/email/configuration-sets", v2_body("unsigned2"), JSON), 403,
         "MissingAuthenticationToken"),
        (signed_request(ep, "POST", "/", v1_body("wrongsecret1"), FORM, key_id=srv.key_id,
                        secret="nope"), 403, "SignatureDoesNotMatch"),
        (signed_request(ep, "POST", "/v2/email/configuration-sets", v2_body("wrongsecret2"),
                        JSON, key_id=srv.key_id, secret="nope"), 403, "SignatureDoesNotMatch"),
        (signed_request(ep, "POST", "/", v1_body("unknown1"), FORM, key_id="MTLYNOBODY",
                        secret=srv.secret), 403, "InvalidClientTokenId"),
        (signed_request(ep, "POST", "/v2/email/configuration-sets", v2_body("unknown2"), JSON,
                        key_id="MTLYNOBODY", secret=srv.secret), 403, "InvalidClientTokenId"),
        (srv.signed("POST", "/", v1_body("stale1"), FORM, when=stale), 400, "RequestExpired"),
        (srv.signed("POST", "/v2/email/configuration-sets", v2_body("stale2"), JSON,
                    when=stale), 400, "RequestExpired"),
        (send(ep, "POST", "/", v1_body("partial1"), {**FORM, **partial}), 400,
         "IncompleteSignature"),
        (send(ep, "POST", "/v2/email/configuration-sets", v2_body("partial2"),
              {**JSON, **partial}), 400, "IncompleteSignature"),
    ]
    for i, (r, status, code) in enumerate(refusals):
        got = r.xml_error()["Code"] if r.header("Content-Type").startswith("text/xml") \
            else r.json_error_code()
        assert (r.status, got) == (status, code), (i, r.status, r.body)

    # Nothing was created: the account is still empty, from both APIs.
    assert srv.client("ses").list_configuration_sets()["ConfigurationSets"] == []
    assert srv.client("sesv2").list_configuration_sets()["ConfigurationSets"] == []
    # A correctly signed request does create.
    ok = srv.signed("POST", "/", v1_body("ok"), FORM)
    assert ok.status == 200, ok.body
    assert srv.client("sesv2").list_configuration_sets()["ConfigurationSets"] == [names["ok"]]


def test_refused_delete_changes_nothing(server, ses):
    name = unique("keepme")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    bad = server.client("ses", server.key_id, "bad-secret")
    assert_error(bad.delete_configuration_set, "SignatureDoesNotMatch", 403,
                 ConfigurationSetName=name)
    r = server.raw("DELETE", f"/v2/email/configuration-sets/{name}")
    assert r.status == 403
    assert ses.describe_configuration_set(ConfigurationSetName=name)["ConfigurationSet"] == \
        {"Name": name}


# ---------------------------------------------------------------------------------------------
# Presigned URLs


def test_presigned_get_is_accepted(server, ses):
    name = unique("presign")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    url = presigned_url(server.endpoint, "GET", "/v2/email/configuration-sets",
                        key_id=server.key_id, secret=server.secret)
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        body = json.loads(r.read())
    assert name in body["ConfigurationSets"]


def test_presigned_get_of_one_set(server, ses):
    name = unique("presign1")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    url = presigned_url(server.endpoint, "GET", f"/v2/email/configuration-sets/{name}",
                        key_id=server.key_id, secret=server.secret)
    with urllib.request.urlopen(url, timeout=10) as r:
        assert json.loads(r.read())["ConfigurationSetName"] == name


def test_presigned_url_with_wrong_secret_is_refused(server):
    url = presigned_url(server.endpoint, "GET", "/v2/email/configuration-sets",
                        key_id=server.key_id, secret="not-the-secret")
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(url, timeout=10)
    assert ei.value.code == 403
    assert ei.value.headers["x-amzn-ErrorType"].split(":")[0] == "SignatureDoesNotMatch"


def test_presigned_url_tampered_path_is_refused(server):
    url = presigned_url(server.endpoint, "GET", "/v2/email/configuration-sets",
                        key_id=server.key_id, secret=server.secret)
    tampered = url.replace("/v2/email/configuration-sets?", "/v2/email/identities?")
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(tampered, timeout=10)
    assert ei.value.code == 403


def test_header_and_presigned_together_is_incomplete(server):
    url = presigned_url(server.endpoint, "GET", "/v2/email/configuration-sets",
                        key_id=server.key_id, secret=server.secret)
    path = url[len(server.endpoint):]
    h = sign_headers("GET", url, b"", {}, key_id=server.key_id, secret=server.secret)
    r = send(server.endpoint, "GET", path, b"", h)
    assert r.status == 400
    assert r.json_error_code() == "IncompleteSignature"


# ---------------------------------------------------------------------------------------------
# Canonicalization details real clients rely on


def test_double_encoded_canonical_uri(server, sesv2):
    """An identity with '@' in the path: botocore double-encodes it in the canonical URI."""
    addr = f"{unique('enc')}@example.com"
    sesv2.create_email_identity(EmailIdentity=addr)
    got = sesv2.get_email_identity(EmailIdentity=addr)
    assert got["IdentityType"] == "EMAIL_ADDRESS"


def test_content_sha256_header_is_honoured(server):
    """The JS SDK sends and signs X-Amz-Content-SHA256; a wrong value must be refused."""
    import hashlib
    body = json.dumps({"ConfigurationSetName": unique("sha")}).encode()
    good = {**JSON, "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}
    r = server.signed("POST", "/v2/email/configuration-sets", body, good)
    assert r.status == 200, r.body
    other = json.dumps({"ConfigurationSetName": unique("sha")}).encode()
    h = sign_headers("POST", server.endpoint + "/v2/email/configuration-sets", body, good,
                     key_id=server.key_id, secret=server.secret)
    r = send(server.endpoint, "POST", "/v2/email/configuration-sets", other, h)
    assert r.status == 403
    assert r.json_error_code() == "SignatureDoesNotMatch"
