"""Identities (v1 Verify*/List/Delete/GetIdentityVerificationAttributes, v2 *EmailIdentity) and
account reads (GetSendQuota, GetAccountSendingEnabled, GetAccount)."""

from __future__ import annotations

import pytest

from helpers import assert_error, strip_meta, unique


def addr(prefix="user"):
    return f"{unique(prefix)}@example.com"


def domain(prefix="dom"):
    return f"{unique(prefix)}.example.net"


# ---------------------------------------------------------------------------------------------
# SES v1


def test_v1_verify_email_identity(ses):
    a = addr()
    assert strip_meta(ses.verify_email_identity(EmailAddress=a)) == {}
    assert a in ses.list_identities(IdentityType="EmailAddress")["Identities"]
    attrs = ses.get_identity_verification_attributes(Identities=[a])["VerificationAttributes"]
    assert attrs == {a: {"VerificationStatus": "Success"}}


def test_v1_verify_email_address_legacy(ses):
    a = addr("legacy")
    assert strip_meta(ses.verify_email_address(EmailAddress=a)) == {}
    assert a in ses.list_identities()["Identities"]


def test_v1_verify_is_idempotent(ses):
    a = addr("again")
    ses.verify_email_identity(EmailAddress=a)
    ses.verify_email_identity(EmailAddress=a)
    assert ses.list_identities()["Identities"].count(a) == 1
    d = domain("again")
    t1 = ses.verify_domain_identity(Domain=d)["VerificationToken"]
    t2 = ses.verify_domain_identity(Domain=d)["VerificationToken"]
    assert t1 == t2


def test_v1_verify_domain_identity(ses):
    d = domain()
    out = ses.verify_domain_identity(Domain=d)
    token = out["VerificationToken"]
    assert isinstance(token, str) and len(token) >= 16
    attrs = ses.get_identity_verification_attributes(Identities=[d])["VerificationAttributes"]
    assert attrs == {d: {"VerificationStatus": "Success", "VerificationToken": token}}
    assert d in ses.list_identities(IdentityType="Domain")["Identities"]


def test_v1_list_identities_type_filter(ses):
    a, d = addr("filter"), domain("filter")
    ses.verify_email_identity(EmailAddress=a)
    ses.verify_domain_identity(Domain=d)
    emails = ses.list_identities(IdentityType="EmailAddress")["Identities"]
    domains = ses.list_identities(IdentityType="Domain")["Identities"]
    everything = ses.list_identities()["Identities"]
    assert a in emails and a not in domains
    assert d in domains and d not in emails
    assert a in everything and d in everything
    assert all("@" in i for i in emails)
    assert all("@" not in i for i in domains)


def test_v1_list_identities_pagination(fresh_server):
    ses = fresh_server.client("ses")
    ids = sorted([addr("pg") for _ in range(4)] + [domain("pg") for _ in range(3)])
    for i in ids:
        if "@" in i:
            ses.verify_email_identity(EmailAddress=i)
        else:
            ses.verify_domain_identity(Domain=i)
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxItems": 3}
        if token:
            kw["NextToken"] = token
        page = ses.list_identities(**kw)
        pages += 1
        assert len(page["Identities"]) <= 3
        seen += page["Identities"]
        token = page.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert pages == 3
    assert sorted(seen) == ids
    # with a type filter, pages only hold that type
    page = ses.list_identities(IdentityType="Domain", MaxItems=2)
    assert len(page["Identities"]) == 2 and page["NextToken"]
    rest = ses.list_identities(IdentityType="Domain", MaxItems=2, NextToken=page["NextToken"])
    assert sorted(page["Identities"] + rest["Identities"]) == sorted(i for i in ids if "@" not in i)
    assert "NextToken" not in rest
    # botocore's paginator
    paged = [i for p in ses.get_paginator("list_identities").paginate(
        PaginationConfig={"PageSize": 2}) for i in p["Identities"]]
    assert sorted(paged) == ids


def test_v1_get_verification_attributes_omits_unknown(ses):
    a = addr("known")
    ses.verify_email_identity(EmailAddress=a)
    unknown = addr("unknown")
    attrs = ses.get_identity_verification_attributes(Identities=[a, unknown])
    assert attrs["VerificationAttributes"] == {a: {"VerificationStatus": "Success"}}


def test_v1_delete_identity(ses):
    a, d = addr("del"), domain("del")
    ses.verify_email_identity(EmailAddress=a)
    ses.verify_domain_identity(Domain=d)
    assert strip_meta(ses.delete_identity(Identity=a)) == {}
    assert strip_meta(ses.delete_identity(Identity=d)) == {}
    everything = ses.list_identities()["Identities"]
    assert a not in everything and d not in everything
    assert ses.get_identity_verification_attributes(
        Identities=[a, d])["VerificationAttributes"] == {}


def test_v1_delete_unknown_identity_succeeds(ses):
    assert strip_meta(ses.delete_identity(Identity=addr("never"))) == {}


@pytest.mark.parametrize("bad", ["not-an-address", "two@@example.com", "sp ace@example.com",
                                 "@example.com", "user@", "user@nodot", "user@-bad-.com"])
def test_v1_invalid_email_address(ses, bad):
    assert_error(ses.verify_email_identity, "InvalidParameterValue", 400, EmailAddress=bad)
    assert bad not in ses.list_identities()["Identities"]


@pytest.mark.parametrize("bad", ["nodot", "bad domain.com", "-lead.example.com",
                                 "a..b.example.com", "x" * 64 + ".example.com"])
def test_v1_invalid_domain(ses, bad):
    assert_error(ses.verify_domain_identity, "InvalidParameterValue", 400, Domain=bad,
                 message_has=bad.lower())


def test_v1_send_quota(ses):
    q = strip_meta(ses.get_send_quota())
    assert set(q) == {"Max24HourSend", "MaxSendRate", "SentLast24Hours"}
    assert q["Max24HourSend"] > 0
    assert q["MaxSendRate"] > 0
    assert q["SentLast24Hours"] == 0.0


def test_v1_account_sending_enabled(ses):
    assert strip_meta(ses.get_account_sending_enabled()) == {"Enabled": True}


def test_cli_identities(aws_cli):
    a = addr("cli")
    rc, out, err = aws_cli("ses", "verify-email-identity", "--email-address", a)
    assert rc == 0, err
    rc, out, err = aws_cli("ses", "list-identities", "--identity-type", "EmailAddress")
    assert rc == 0, err
    assert a in out["Identities"]
    rc, out, err = aws_cli("ses", "get-send-quota")
    assert rc == 0, err
    assert out["SentLast24Hours"] == 0.0 and out["Max24HourSend"] > 0
    rc, out, err = aws_cli("sesv2", "get-email-identity", "--email-identity", a)
    assert rc == 0, err
    assert out["IdentityType"] == "EMAIL_ADDRESS"
    assert out["VerifiedForSendingStatus"] is True


# ---------------------------------------------------------------------------------------------
# SES v2


def test_v2_create_email_identity(sesv2):
    a = addr("v2")
    out = strip_meta(sesv2.create_email_identity(EmailIdentity=a))
    assert out["IdentityType"] == "EMAIL_ADDRESS"
    assert out["VerifiedForSendingStatus"] is True
    got = sesv2.get_email_identity(EmailIdentity=a)
    assert got["IdentityType"] == "EMAIL_ADDRESS"
    assert got["VerifiedForSendingStatus"] is True
    assert got["VerificationStatus"] == "SUCCESS"


def test_v2_create_domain_identity(sesv2, ses):
    d = domain("v2")
    out = sesv2.create_email_identity(EmailIdentity=d)
    assert out["IdentityType"] == "DOMAIN"
    assert sesv2.get_email_identity(EmailIdentity=d)["IdentityType"] == "DOMAIN"
    assert d in ses.list_identities(IdentityType="Domain")["Identities"]


def test_v2_create_twice_is_already_exists(sesv2, ses):
    a = addr("twice")
    sesv2.create_email_identity(EmailIdentity=a)
    e = assert_error(sesv2.create_email_identity, "AlreadyExistsException", 400,
                     EmailIdentity=a, message_has=a)
    assert isinstance(e, sesv2.exceptions.AlreadyExistsException)
    # a v1-verified identity also exists for v2
    b = addr("v1first")
    ses.verify_email_identity(EmailAddress=b)
    assert_error(sesv2.create_email_identity, "AlreadyExistsException", 400, EmailIdentity=b)


def test_v2_create_with_tags_and_default_set(sesv2):
    cs = unique("idset")
    sesv2.create_configuration_set(ConfigurationSetName=cs)
    a = addr("tagged")
    sesv2.create_email_identity(EmailIdentity=a, Tags=[{"Key": "team", "Value": "growth"}],
                                ConfigurationSetName=cs)
    got = sesv2.get_email_identity(EmailIdentity=a)
    assert got["Tags"] == [{"Key": "team", "Value": "growth"}]
    assert got["ConfigurationSetName"] == cs


def test_v2_create_with_unknown_default_set(sesv2):
    a = addr("noset")
    missing = unique("missing")
    assert_error(sesv2.create_email_identity, "NotFoundException", 404, EmailIdentity=a,
                 ConfigurationSetName=missing, message_has=missing)
    assert_error(sesv2.get_email_identity, "NotFoundException", 404, EmailIdentity=a)


def test_v2_list_email_identities(sesv2, ses):
    a, d = addr("l2"), domain("l2")
    sesv2.create_email_identity(EmailIdentity=a)
    ses.verify_domain_identity(Domain=d)
    ids = {i["IdentityName"]: i for i in sesv2.list_email_identities()["EmailIdentities"]}
    assert ids[a] == {"IdentityName": a, "IdentityType": "EMAIL_ADDRESS",
                      "SendingEnabled": True, "VerificationStatus": "SUCCESS"}
    assert ids[d]["IdentityType"] == "DOMAIN"


def test_v2_list_email_identities_page_size(fresh_server):
    sesv2 = fresh_server.client("sesv2")
    names = sorted(addr("ps") for _ in range(5))
    for n in names:
        sesv2.create_email_identity(EmailIdentity=n)
    first = sesv2.list_email_identities(PageSize=3)
    assert len(first["EmailIdentities"]) == 3 and first["NextToken"]
    second = sesv2.list_email_identities(PageSize=3, NextToken=first["NextToken"])
    assert "NextToken" not in second
    got = [i["IdentityName"] for i in first["EmailIdentities"] + second["EmailIdentities"]]
    assert sorted(got) == names


def test_v2_delete_email_identity(sesv2, ses):
    a = addr("d2")
    sesv2.create_email_identity(EmailIdentity=a)
    assert strip_meta(sesv2.delete_email_identity(EmailIdentity=a)) == {}
    assert_error(sesv2.get_email_identity, "NotFoundException", 404, EmailIdentity=a)
    assert a not in ses.list_identities()["Identities"]
    names = [i["IdentityName"] for i in sesv2.list_email_identities()["EmailIdentities"]]
    assert a not in names


def test_v2_delete_unknown_is_not_found(sesv2):
    a = addr("ghost")
    e = assert_error(sesv2.delete_email_identity, "NotFoundException", 404, EmailIdentity=a,
                     message_has=a)
    assert isinstance(e, sesv2.exceptions.NotFoundException)


def test_v2_get_unknown_is_not_found(sesv2):
    assert_error(sesv2.get_email_identity, "NotFoundException", 404,
                 EmailIdentity=domain("ghost"))


@pytest.mark.parametrize("bad", ["not-an-address", "two@@example.com", "sp ace@example.com",
                                 "user@", "bad domain.com"])
def test_v2_invalid_identity(sesv2, bad):
    assert_error(sesv2.create_email_identity, "BadRequestException", 400, EmailIdentity=bad)


def test_v1_identity_deleted_by_v2(ses, sesv2):
    d = domain("cross")
    ses.verify_domain_identity(Domain=d)
    sesv2.delete_email_identity(EmailIdentity=d)
    assert d not in ses.list_identities()["Identities"]


def test_v2_get_account(sesv2):
    acct = strip_meta(sesv2.get_account())
    assert acct["SendingEnabled"] is True
    assert acct["ProductionAccessEnabled"] is True
    assert acct["EnforcementStatus"] == "HEALTHY"
    assert acct["SendQuota"]["Max24HourSend"] > 0
    assert acct["SendQuota"]["MaxSendRate"] > 0
    assert acct["SendQuota"]["SentLast24Hours"] == 0.0


def test_quota_agrees_between_versions(ses, sesv2):
    q1 = ses.get_send_quota()
    q2 = sesv2.get_account()["SendQuota"]
    assert q1["Max24HourSend"] == q2["Max24HourSend"]
    assert q1["MaxSendRate"] == q2["MaxSendRate"]


def test_sandbox_flag_turns_off_production_access(server_factory):
    srv = server_factory(extra_args=("--sandbox",))
    assert srv.client("sesv2").get_account()["ProductionAccessEnabled"] is False
