"""State survives kill -9: everything acknowledged before the kill is there after a restart."""

from __future__ import annotations

import threading

from botocore.exceptions import BotoCoreError, ClientError

from helpers import (EXPORT_RE, SNS_ARN, dim, run_bin, unique, v1_cw_destination, wait_until)


def test_state_survives_kill9(fresh_server):
    srv = fresh_server
    ses, sesv2 = srv.client("ses"), srv.client("sesv2")
    s1, s2, gone = unique("d1"), unique("d2"), unique("gone")
    cw = v1_cw_destination("cw", dims=[dim("campaign"), dim("X-Id", "emailHeader", "a@b.c"),
                                       dim("link", "linkTag", "none")],
                           types=["send", "click"])
    ses.create_configuration_set(ConfigurationSet={"Name": s1})
    ses.create_configuration_set_event_destination(ConfigurationSetName=s1,
                                                   EventDestination=cw)
    sesv2.create_configuration_set(ConfigurationSetName=s2,
                                   DeliveryOptions={"TlsPolicy": "REQUIRE"},
                                   Tags=[{"Key": "k", "Value": "v"}])
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=s2, EventDestinationName="sns",
        EventDestination={"Enabled": True, "MatchingEventTypes": ["BOUNCE", "DELIVERY_DELAY"],
                          "SnsDestination": {"TopicArn": SNS_ARN}})
    ses.create_configuration_set(ConfigurationSet={"Name": gone})
    ses.delete_configuration_set(ConfigurationSetName=gone)
    email, dom = f"{unique('dur')}@example.com", f"{unique('dur')}.example.org"
    ses.verify_email_identity(EmailAddress=email)
    token = ses.verify_domain_identity(Domain=dom)["VerificationToken"]
    sesv2.create_email_identity(EmailIdentity=f"v2-{email}", ConfigurationSetName=s2)

    key_id = srv.key_id
    srv.kill9()
    assert srv.health_status() == 0
    srv.start()
    assert srv.key_id == key_id
    assert not any("AWS_SECRET_ACCESS_KEY" in l for l in srv.lines), "a new key was generated"

    ses, sesv2 = srv.client("ses"), srv.client("sesv2")
    assert sorted(sesv2.list_configuration_sets()["ConfigurationSets"]) == sorted([s1, s2])
    assert sorted(s["Name"] for s in ses.list_configuration_sets()["ConfigurationSets"]) == \
        sorted([s1, s2])
    got = ses.describe_configuration_set(ConfigurationSetName=s1,
                                         ConfigurationSetAttributeNames=["eventDestinations"])
    assert got["EventDestinations"] == [cw]
    v2 = sesv2.get_configuration_set(ConfigurationSetName=s2)
    assert v2["DeliveryOptions"]["TlsPolicy"] == "REQUIRE"
    assert v2["Tags"] == [{"Key": "k", "Value": "v"}]
    dests = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=s2)
    assert dests["EventDestinations"] == [
        {"Name": "sns", "Enabled": True, "MatchingEventTypes": ["BOUNCE", "DELIVERY_DELAY"],
         "SnsDestination": {"TopicArn": SNS_ARN}}]
    ids = ses.list_identities()["Identities"]
    assert sorted(ids) == sorted([email, dom, f"v2-{email}"])
    attrs = ses.get_identity_verification_attributes(Identities=[dom])["VerificationAttributes"]
    assert attrs[dom]["VerificationToken"] == token
    assert sesv2.get_email_identity(EmailIdentity=f"v2-{email}")["ConfigurationSetName"] == s2


def test_restart_after_graceful_stop_and_kill9_twice(fresh_server):
    srv = fresh_server
    names = []
    for round_ in range(3):
        n = unique(f"r{round_}")
        srv.client("sesv2").create_configuration_set(ConfigurationSetName=n)
        names.append(n)
        if round_ == 1:
            assert srv.stop() == 0
            srv.start()
        else:
            srv.kill9()
            srv.start()
    assert sorted(srv.client("ses").list_configuration_sets()["ConfigurationSets"],
                  key=lambda s: s["Name"]) == [{"Name": n} for n in sorted(names)]


def test_created_keys_survive_kill9(fresh_server):
    srv = fresh_server
    r = run_bin("keys", "create", "--data-dir", srv.data_dir, "--name", "survivor")
    assert r.returncode == 0, r.stderr
    key_id, secret = EXPORT_RE.search(r.stdout).groups()
    srv.kill9()
    srv.start()
    assert srv.client("ses", key_id, secret).list_configuration_sets()["ConfigurationSets"] == []


def test_concurrent_creates_with_kill9_in_the_middle(fresh_server):
    srv = fresh_server
    acked: list[tuple[str, str]] = []   # (kind, name) answered 200 before the kill
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[str] = []

    def worker(idx: int):
        ses, sesv2 = srv.client("ses"), srv.client("sesv2")
        i = 0
        while not stop.is_set():
            i += 1
            name = f"burst-{idx}-{i}"
            try:
                kind = i % 3
                if kind == 0:
                    ses.create_configuration_set(ConfigurationSet={"Name": name})
                    item = ("set", name)
                elif kind == 1:
                    sesv2.create_configuration_set(ConfigurationSetName=name)
                    item = ("set", name)
                else:
                    addr = f"{name}@example.com"
                    sesv2.create_email_identity(EmailIdentity=addr)
                    item = ("identity", addr)
            except (ClientError, BotoCoreError, OSError) as e:
                if isinstance(e, ClientError):
                    failures.append(f"{name}: {e}")  # an API error before the kill is a bug
                return  # connection refused/reset: the server is gone
            with lock:
                acked.append(item)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(6)]
    for t in threads:
        t.start()
    wait_until(lambda: len(acked) >= 150, 60, what="150 acknowledged creates")
    srv.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive()
    with lock:
        acknowledged = list(acked)
    assert not failures, failures[:3]

    srv.start()
    ses, sesv2 = srv.client("ses"), srv.client("sesv2")
    sets = set()
    token = None
    while True:
        page = sesv2.list_configuration_sets(**({"NextToken": token} if token else {}))
        sets.update(page["ConfigurationSets"])
        token = page.get("NextToken")
        if not token:
            break
    identities = set()
    token = None
    while True:
        page = ses.list_identities(**({"NextToken": token} if token else {}))
        identities.update(page["Identities"])
        token = page.get("NextToken")
        if not token:
            break
    want_sets = {n for k, n in acknowledged if k == "set"}
    want_ids = {n for k, n in acknowledged if k == "identity"}
    assert want_sets and want_ids
    assert not (want_sets - sets), f"lost {len(want_sets - sets)} acknowledged sets"
    assert not (want_ids - identities), f"lost {len(want_ids - identities)} identities"
    # Nothing appears that was never attempted.
    assert all(n.startswith("burst-") for n in sets)
    # Unacknowledged creates are at most one in flight per thread.
    assert len(sets) - len(want_sets) + len(identities) - len(want_ids) <= len(threads)
    # The store is fully usable after the crash.
    n = unique("after")
    ses.create_configuration_set(ConfigurationSet={"Name": n})
    ses.create_configuration_set_event_destination(ConfigurationSetName=n,
                                                   EventDestination=v1_cw_destination("d"))
    assert sesv2.get_configuration_set_event_destinations(
        ConfigurationSetName=n)["EventDestinations"][0]["Name"] == "d"
