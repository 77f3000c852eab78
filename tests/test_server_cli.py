"""The mailtally command line: serve, keys, operations, signals, /health."""

from __future__ import annotations

import os
import re
import signal
import stat

import pytest

from helpers import (EXPORT_RE, REPO, assert_error, run_bin, unique, wait_until)


def test_version():
    r = run_bin("--version")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"mailtally \d+\.\d+\.\d+\S*", r.stdout.strip()), r.stdout


def test_help_lists_subcommands():
    r = run_bin("--help")
    assert r.returncode == 0, r.stderr
    for word in ("serve", "keys", "operations", "--version"):
        assert word in r.stdout, f"{word!r} missing from --help: {r.stdout}"


def test_serve_help_documents_options():
    r = run_bin("serve", "--help")
    assert r.returncode == 0, r.stderr
    for opt in ("--listen", "--data-dir", "--config"):
        assert opt in r.stdout


def test_unknown_subcommand_fails():
    r = run_bin("no-such-command")
    assert r.returncode != 0


def test_serve_without_data_dir_fails(tmp_path):
    r = run_bin("serve", "--listen", "127.0.0.1:0", timeout=10)
    assert r.returncode != 0
    assert "data-dir" in r.stderr


def test_first_start_prints_key_once_and_it_works(server_factory, tmp_path):
    srv = server_factory(tmp_path / "once")
    first = list(srv.lines)
    assert any(l.startswith("mailtally: created an access key") for l in first), first
    exports = [l for l in first if l.startswith("export ")]
    assert len(exports) == 1, first
    assert re.fullmatch(r"export AWS_ACCESS_KEY_ID=\S+ AWS_SECRET_ACCESS_KEY=\S+ "
                        r"AWS_DEFAULT_REGION=us-east-1", exports[0]), exports[0]
    assert any(re.fullmatch(r"mailtally \S+ listening on http://127\.0\.0\.1:\d+ "
                            r"\(data dir .+\)", l) for l in first), first
    # the printed key is accepted
    assert srv.client("ses").list_configuration_sets()["ConfigurationSets"] == []
    key_id, secret = srv.key_id, srv.secret

    # The key is stored in the data dir, readable by the owner only.
    db_files = [f for f in os.listdir(srv.data_dir) if not f.endswith(".log")]
    assert db_files, "nothing stored in the data dir"
    for f in db_files:
        mode = stat.S_IMODE(os.stat(os.path.join(srv.data_dir, f)).st_mode)
        assert mode & 0o077 == 0, f"{f} has mode {oct(mode)}"
    assert secret not in " ".join(srv.stderr_text().split("\n"))

    srv.restart()
    second = srv.lines
    assert not any("AWS_SECRET_ACCESS_KEY" in l or "created an access key" in l
                   for l in second), second
    assert srv.key_id == key_id
    assert srv.client("ses").list_configuration_sets()["ConfigurationSets"] == []


def test_health(server):
    assert server.health_status() == 200
    r = server.raw("GET", "/health")
    assert r.status == 200


def test_unknown_path_is_not_200(server):
    r = server.raw("GET", "/definitely-not-an-api")
    assert r.status == 404


def test_sigterm_exits_zero(server_factory):
    srv = server_factory()
    assert srv.signal(signal.SIGTERM) == 0
    assert srv.health_status() == 0  # nothing listens any more


def test_sigint_exits_zero(server_factory):
    srv = server_factory()
    assert srv.signal(signal.SIGINT) == 0
    assert srv.health_status() == 0


def test_graceful_stop_keeps_state(server_factory):
    srv = server_factory()
    name = unique("keep")
    srv.client("ses").create_configuration_set(ConfigurationSet={"Name": name})
    assert srv.signal(signal.SIGTERM) == 0
    srv.start()
    assert srv.client("sesv2").get_configuration_set(
        ConfigurationSetName=name)["ConfigurationSetName"] == name


# ---------------------------------------------------------------------------------------------
# keys


def _parse_export(stdout: str):
    m = EXPORT_RE.search(stdout)
    assert m, stdout
    return m.group(1), m.group(2)


def test_keys_create_list_delete_against_running_server(server_factory):
    srv = server_factory()
    r = run_bin("keys", "create", "--data-dir", srv.data_dir, "--name", "ci-robot")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("export AWS_ACCESS_KEY_ID="), r.stdout
    key_id, secret = _parse_export(r.stdout)
    assert key_id != srv.key_id

    listed = run_bin("keys", "list", "--data-dir", srv.data_dir)
    assert listed.returncode == 0, listed.stderr
    rows = [l.split("\t") for l in listed.stdout.splitlines() if l.strip()]
    assert [key_id, "ci-robot"] in rows, rows
    assert srv.key_id in [r[0] for r in rows]
    assert all(len(r) == 2 for r in rows), rows
    assert secret not in listed.stdout

    # The new key works at once against the server that was already running.
    ses = srv.client("ses", key_id, secret)
    name = unique("bykey")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    assert {"Name": name} in ses.list_configuration_sets()["ConfigurationSets"]

    d = run_bin("keys", "delete", key_id, "--data-dir", srv.data_dir)
    assert d.returncode == 0, d.stderr
    listed = run_bin("keys", "list", "--data-dir", srv.data_dir)
    assert key_id not in listed.stdout

    # Refused once the credential cache (5 s) has expired; poll with a deadline.
    def refused():
        try:
            ses.list_configuration_sets()
            return False
        except ses.exceptions.ClientError as e:
            return e.response["Error"]["Code"] == "InvalidClientTokenId"

    wait_until(refused, 6.5, interval=0.25, what="deleted key to be refused")
    # The original key is untouched.
    assert srv.client("ses").list_configuration_sets()["ConfigurationSets"]


def test_keys_commands_on_a_stopped_data_dir(server_factory, tmp_path):
    d = tmp_path / "offline"
    created = []
    for name in ("alpha", "beta"):
        r = run_bin("keys", "create", "--data-dir", str(d), "--name", name)
        assert r.returncode == 0, r.stderr
        created.append(_parse_export(r.stdout))
    assert created[0][0] != created[1][0] and created[0][1] != created[1][1]
    listed = run_bin("keys", "list", "--data-dir", str(d))
    assert listed.returncode == 0, listed.stderr
    rows = sorted(l.split("\t") for l in listed.stdout.splitlines() if l.strip())
    assert rows == sorted([[created[0][0], "alpha"], [created[1][0], "beta"]])
    assert run_bin("keys", "delete", created[0][0], "--data-dir", str(d)).returncode == 0
    listed = run_bin("keys", "list", "--data-dir", str(d))
    assert [l.split("\t")[0] for l in listed.stdout.splitlines() if l.strip()] == [created[1][0]]
    # the server started afterwards accepts the remaining key and refuses the deleted one
    srv = server_factory(d, start=False)
    srv.key_id, srv.secret = created[1]
    srv.start()
    assert srv.client("ses").list_configuration_sets()["ConfigurationSets"] == []
    assert_error(srv.client("ses", *created[0]).list_configuration_sets, "InvalidClientTokenId",
                 403)


def test_keys_delete_unknown_fails(tmp_path):
    d = tmp_path / "k"
    assert run_bin("keys", "create", "--data-dir", str(d)).returncode == 0
    r = run_bin("keys", "delete", "MTLYNOSUCHKEY", "--data-dir", str(d))
    assert r.returncode != 0
    assert "MTLYNOSUCHKEY" in r.stderr


def test_keys_create_on_empty_dir_then_serve_prints_no_key(server_factory, tmp_path):
    d = tmp_path / "precreated"
    r = run_bin("keys", "create", "--data-dir", str(d), "--name", "ops")
    assert r.returncode == 0, r.stderr
    key_id, secret = _parse_export(r.stdout)
    srv = server_factory(d, start=False)
    # No generated key: the start must not print one, and the created key is the way in.
    srv.key_id, srv.secret = key_id, secret
    srv.start()
    assert not any("AWS_SECRET_ACCESS_KEY" in l for l in srv.lines), srv.lines
    assert srv.client("sesv2").list_configuration_sets()["ConfigurationSets"] == []


def test_env_credential_accepted(server_factory):
    env_id, env_secret = "MTLYENVTESTKEY0001", "envsecret/with+chars0123456789abcdefghij"
    srv = server_factory(env={"MAILTALLY_ACCESS_KEY_ID": env_id,
                              "MAILTALLY_SECRET_ACCESS_KEY": env_secret})
    name = unique("env")
    srv.client("ses", env_id, env_secret).create_configuration_set(ConfigurationSet={"Name": name})
    # the generated key still works and sees the same state
    names = srv.client("sesv2").list_configuration_sets()["ConfigurationSets"]
    assert name in names
    # the env key with a wrong secret is refused
    bad = srv.client("ses", env_id, env_secret + "x")
    assert_error(bad.list_configuration_sets, "SignatureDoesNotMatch", 403)


def test_env_credential_not_accepted_without_env(server_factory):
    srv = server_factory()
    c = srv.client("ses", "MTLYENVTESTKEY0001", "envsecret/with+chars0123456789abcdefghij")
    assert_error(c.list_configuration_sets, "InvalidClientTokenId", 403)


# ---------------------------------------------------------------------------------------------
# operations


def _operation_rows(markdown: str) -> dict:
    """{(service heading, operation): status} from the `operations` markdown."""
    rows = {}
    section = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            section = line[3:].split(" ")[0]
            continue
        m = re.match(r"\|\s*([A-Za-z0-9]+)\s*\|.*\|\s*([^|]+?)\s*\|\s*$", line)
        if m and section and m.group(1) != "Operation":
            rows[(section, m.group(1))] = m.group(2)
    return rows


@pytest.fixture(scope="module")
def operations_output():
    r = run_bin("operations")
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_operations_lists_implemented_and_not(operations_output):
    rows = _operation_rows(operations_output)
    sections = {s for s, _ in rows}
    assert {"SES", "SESv2", "CloudWatch"} <= sections, sections
    assert rows[("SES", "CreateReceiptRuleSet")] == "*not implemented*"
    assert rows[("SES", "CreateConfigurationSet")] == "implemented"
    assert rows[("SESv2", "CreateConfigurationSet")] == "implemented"
    assert rows[("SESv2", "CreateDedicatedIpPool")] == "*not implemented*"
    assert rows[("CloudWatch", "DescribeAlarms")] == "*not implemented*"
    assert rows[("SES", "SendEmail")] == "implemented"
    assert rows[("SESv2", "SendEmail")] == "implemented"
    implemented_v1 = ["CreateConfigurationSet", "DeleteConfigurationSet",
                      "DescribeConfigurationSet", "ListConfigurationSets",
                      "CreateConfigurationSetEventDestination",
                      "UpdateConfigurationSetEventDestination",
                      "DeleteConfigurationSetEventDestination", "VerifyEmailIdentity",
                      "VerifyDomainIdentity", "VerifyEmailAddress", "ListIdentities",
                      "DeleteIdentity", "GetIdentityVerificationAttributes", "GetSendQuota",
                      "GetAccountSendingEnabled"]
    implemented_v2 = ["CreateConfigurationSet", "GetConfigurationSet", "ListConfigurationSets",
                      "DeleteConfigurationSet", "CreateConfigurationSetEventDestination",
                      "UpdateConfigurationSetEventDestination",
                      "DeleteConfigurationSetEventDestination",
                      "GetConfigurationSetEventDestinations", "CreateEmailIdentity",
                      "GetEmailIdentity", "ListEmailIdentities", "DeleteEmailIdentity",
                      "GetAccount"]
    for op in implemented_v1:
        assert rows.get(("SES", op)) == "implemented", op
    for op in implemented_v2:
        assert rows.get(("SESv2", op)) == "implemented", op
    # every operation of the models is listed (the Debian 1.29 models: 71 / 86 / 37+)
    assert sum(1 for s, _ in rows if s == "SES") >= 70
    assert sum(1 for s, _ in rows if s == "SESv2") >= 86
    assert sum(1 for s, _ in rows if s == "CloudWatch") >= 30
    assert "POST /v2/email/list-configuration-sets" in operations_output


def test_operations_doc_is_generated(operations_output):
    path = os.path.join(REPO, "docs", "operations.md")
    assert os.path.exists(path), "docs/operations.md is missing (generate it with " \
                                 "`mailtally operations > docs/operations.md`)"
    with open(path) as f:
        committed = f.read()
    assert committed == operations_output, \
        "docs/operations.md differs from `mailtally operations`; regenerate it"
