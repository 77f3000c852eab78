"""The web console (/console) end to end: the real binary, real headless Chromium (Debian's
chromium) driven by playwright-core from npm (tests/js/console_e2e.mjs), boto3 alongside.

Screenshots of every page land in docs/console/ (set CONSOLE_SHOTS_DIR to put them elsewhere)."""
from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.parse

import pytest

import helpers
from helpers import unique, wait_until

JS_DIR = os.path.join(os.path.dirname(__file__), "js")
# The test run produces the screenshots of every page in docs/console/ (issue 5 asks for them
# there); CONSOLE_SHOTS_DIR puts them elsewhere.
SHOTS = os.environ.get("CONSOLE_SHOTS_DIR", os.path.join(helpers.REPO, "docs", "console"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser_ready():
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the console tests")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: scripts/install-deps.sh --test installs chromium")
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "playwright-core")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True,
                       stdout=subprocess.DEVNULL)
    os.makedirs(SHOTS, exist_ok=True)


def run_browser(server, scenario: str, **args) -> dict:
    env = dict(os.environ, MAILTALLY_ENDPOINT=server.endpoint, AWS_ACCESS_KEY_ID=server.key_id,
               AWS_SECRET_ACCESS_KEY=server.secret, SHOTS_DIR=SHOTS, E2E_ARGS=json.dumps(args),
               CHROMIUM=CHROMIUM)
    proc = subprocess.run(["node", "console_e2e.mjs", scenario], cwd=JS_DIR, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, f"{scenario} failed:\n{proc.stderr[-4000:]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result.pop("pageErrors") == [], f"page errors in {scenario}"
    return result


class Sink:
    """A real HTTP server on another port: it records every request (to prove a sandboxed
    message loaded nothing) and serves pages (to play a cross-site attacker)."""

    def __init__(self, pages: dict[str, str] | None = None):
        self.hits: list[str] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                sink.hits.append(self.path)
                body = (pages or {}).get(self.path, "").encode()
                self.send_response(200 if body else 204)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def console_session(server) -> tuple[str, str]:
    """Signs in over plain HTTP; returns (cookie header, CSRF token)."""
    r = server.raw("POST", "/console/api/signin",
                   json.dumps({"accessKeyId": server.key_id,
                               "secretAccessKey": server.secret}),
                   {"Content-Type": "application/json"})
    assert r.status == 200, r.body
    cookie = r.header("Set-Cookie").split(";")[0]
    return cookie, r.json()["csrfToken"]


# ---------------------------------------------------------------------------------------------
# Sign-in, session, CSRF (HTTP level and in the browser)


def test_sign_in_in_the_browser_and_cookie_attributes(server, browser_ready):
    r = run_browser(server, "signin")
    assert "refused" in r["refused"] and "not right" in r["refused"]
    assert r["navHiddenAfterWrong"] is True
    [cookie] = [c for c in r["cookies"] if c["name"] == "mailtally_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/console"
    assert 11.9 * 3600 < cookie["expires"] - time.time() <= 12 * 3600 + 5


def test_wrong_secret_and_unknown_key_are_refused_alike(server):
    for body in ({"accessKeyId": server.key_id, "secretAccessKey": server.secret + "x"},
                 {"accessKeyId": "MTLYNOSUCHKEY0000000", "secretAccessKey": server.secret},
                 {"accessKeyId": server.key_id, "secretAccessKey": ""}):
        r = server.raw("POST", "/console/api/signin", json.dumps(body),
                       {"Content-Type": "application/json"})
        assert r.status == 401 and r.json()["code"] == "InvalidCredentials"
        assert r.header("Set-Cookie") is None


def test_nothing_is_reachable_without_signing_in(server):
    for method, path in [("GET", "/console/api/session"), ("GET", "/console/api/keys"),
                         ("GET", "/console/api/local/events"),
                         ("GET", "/console/api/local/mailbox"),
                         ("POST", "/console/api/call/sesv2/ListConfigurationSets")]:
        r = server.raw(method, path, "{}" if method == "POST" else b"",
                       {"Content-Type": "application/json"})
        assert r.status == 401, (path, r.status)
        assert r.json()["code"] == "NotSignedIn"
    r = server.raw("GET", "/console/api/session", headers={"Cookie": "mailtally_session=forged"})
    assert r.status == 401
    # The app shell is public (it is the sign-in page) and carries a strict CSP.
    r = server.raw("GET", "/console/")
    assert r.status == 200 and b"mailtally console" in r.body
    assert "script-src 'self'" in r.header("Content-Security-Policy")
    assert server.raw("GET", "/console").header("Location") == "/console/"


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(server, sesv2):
    cookie, token = console_session(server)
    name = unique("csrf")
    body = json.dumps({"ConfigurationSetName": name})
    path = "/console/api/call/sesv2/CreateConfigurationSet"
    for headers in ({"Cookie": cookie, "Content-Type": "application/json"},
                    {"Cookie": cookie, "Content-Type": "application/json",
                     "X-CSRF-Token": "wrong" + token[5:]},
                    {"Cookie": cookie, "Content-Type": "text/plain", "X-CSRF-Token": token,
                     "Origin": "http://evil.example"},
                    {"Cookie": cookie, "X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"}):
        r = server.raw("POST", path, body, headers)
        assert r.status == 403, (headers, r.status, r.body)
    assert name not in sesv2.list_configuration_sets()["ConfigurationSets"]
    # The same call with the token goes through the API's own handler and validation.
    ok = server.raw("POST", path, body, {"Cookie": cookie, "X-CSRF-Token": token})
    assert ok.status == 200, ok.body
    assert name in sesv2.list_configuration_sets()["ConfigurationSets"]
    bad = server.raw("POST", path, json.dumps({"ConfigurationSetName": "no spaces"}),
                     {"Cookie": cookie, "X-CSRF-Token": token})
    assert bad.status == 400 and bad.json()["code"] == "BadRequestException"
    api = helpers.error_of(sesv2.create_configuration_set, ConfigurationSetName="no spaces")
    assert bad.json()["message"] == api.response["Error"]["Message"]
    model = server.raw("POST", path, "{}", {"Cookie": cookie, "X-CSRF-Token": token})
    assert model.status == 400 and "ConfigurationSetName" in model.json()["message"]
    # Signing out ends the session.
    out = server.raw("POST", "/console/api/signout", "{}", {"Cookie": cookie,
                                                          "X-CSRF-Token": token})
    assert out.status == 200 and "Max-Age=0" in out.header("Set-Cookie")
    assert server.raw("GET", "/console/api/session", headers={"Cookie": cookie}).status == 401


def test_a_cross_site_form_post_from_a_signed_in_browser_changes_nothing(server, sesv2,
                                                                         browser_ready):
    name = unique("xsite")
    action = f"{server.endpoint}/console/api/call/sesv2/CreateConfigurationSet"
    page = (f'<form id="f" method="POST" action="{action}" enctype="text/plain">'
            f'<input name=\'{{"ConfigurationSetName":"{name}","x":"\' value=\'"}}\'></form>'
            '<script>document.getElementById("f").submit()</script>')
    attacker = Sink({"/attack": page})
    try:
        r = run_browser(server, "crosssite", attackUrl=attacker.url + "/attack")
    finally:
        attacker.close()
    assert "/console/api/call" in r["url"], r  # the browser did post to the console
    assert "InvalidCsrfToken" in r["body"]
    assert name not in sesv2.list_configuration_sets()["ConfigurationSets"]


def test_unknown_and_unimplemented_operations(server):
    cookie, token = console_session(server)
    h = {"Cookie": cookie, "X-CSRF-Token": token}
    r = server.raw("POST", "/console/api/call/sesv2/NoSuchOperation", "{}", h)
    assert r.status == 404 and r.json()["code"] == "UnknownOperation"
    r = server.raw("POST", "/console/api/call/s3/ListBuckets", "{}", h)
    assert r.status == 404
    r = server.raw("POST", "/console/api/call/sesv2/ListConfigurationSets", "[1]", h)
    assert r.status == 400


# ---------------------------------------------------------------------------------------------
# The guide's flow: set -> CloudWatch destination -> send -> metrics and events


@pytest.fixture(scope="module")
def guide_flow(server, browser_ready):
    set_name, dest = unique("console"), "cw-campaign"
    r = run_browser(server, "destination", set=set_name, destination=dest)
    return set_name, dest, r


def test_destination_dialog_validates_as_the_user_types(guide_flow):
    _, _, r = guide_flow
    assert "letters A through Z" in r["setNameError"]
    assert r["enabledChecked"] is True
    assert r["eventTypeLabels"] == ["Send", "Reject", "Bounce", "Complaint", "Delivery", "Open",
                                    "Click", "Rendering Failure", "Delivery Delay",
                                    "Subscription"]
    assert r["sources"] == ["Message Tag", "Email Header", "Link Tag"]
    assert r["forbidden"].startswith("You can't use any of the following email headers")
    assert "DKIM-Signature" in r["forbidden"] and "Return-Path" in r["forbidden"]
    assert "Dimension names can only contain" in r["badChars"]
    assert "Dimension values can only contain" in r["badValue"]
    assert {"ses:configuration-set", "ses:from-domain"} <= set(r["suggestions"])
    assert "ses:from-domain can take many different values" in r["costAdvice"]
    assert "charges" in r["costAdvice"]
    assert r["rowsAtTen"] == 10 and r["rowsAfterEleventh"] == 10
    assert "at most 10 dimensions" in r["tooMany"]
    assert "One dimension set per destination" in r["oneSetAdvice"]
    assert r["errorsBeforeSave"] == 0
    assert "Send, Delivery" in r["rowText"] and "campaign (Message Tag, default none)" in \
        r["rowText"]
    assert r["serverError"].startswith("AlreadyExistsException:"), r["serverError"]


def test_destination_saved_through_the_dialog_is_what_the_api_returns(guide_flow, sesv2):
    set_name, dest, _ = guide_flow
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=set_name)
    assert got["EventDestinations"] == [{
        "Name": dest, "Enabled": True, "MatchingEventTypes": ["SEND", "DELIVERY"],
        "CloudWatchDestination": {"DimensionConfigurations": [{
            "DimensionName": "campaign", "DimensionValueSource": "MESSAGE_TAG",
            "DefaultDimensionValue": "none"}]}}]


def test_disable_and_edit_from_the_table(guide_flow, server, sesv2):
    set_name, dest, _ = guide_flow
    r = run_browser(server, "toggle", set=set_name, destination=dest)
    assert r["nameDisabled"] is True and r["enabledChecked"] is False
    assert r["dimension"] == "campaign"
    assert "Send, Bounce, Delivery" in r["rowText"]
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=set_name)
    assert got["EventDestinations"][0]["Enabled"] is False
    assert got["EventDestinations"][0]["MatchingEventTypes"] == ["SEND", "BOUNCE", "DELIVERY"]
    sesv2.update_configuration_set_event_destination(
        ConfigurationSetName=set_name, EventDestinationName=dest,
        EventDestination={**helpers.v2_cw_destination(types=("SEND", "DELIVERY")),
                          "Enabled": True})


def test_sent_mail_shows_in_the_metric_chart_and_the_event_log(guide_flow, server, ses,
                                                              browser_ready):
    set_name, dest, _ = guide_flow
    # (test_disable_and_edit_from_the_table ran before and re-enabled the destination)
    sent = ses.send_email(
        Source="sender@example.com",
        Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
        Message={"Subject": {"Data": "Book launch"}, "Body": {"Text": {"Data": "Hello"}}},
        Tags=[{"Name": "campaign", "Value": "book"}], ConfigurationSetName=set_name)
    message_id = sent["MessageId"]
    r = run_browser(server, "metrics", set=set_name, dimensionSet="campaign=book",
                    messageId=message_id)
    assert r["totals"]["Send"] == 1 and r["totals"]["Delivery"] == 1, r["totals"]
    assert r["totals"]["Total"] == 2
    assert r["canvas"] == 1
    labels = {d["label"]: sum(d["data"]) for d in r["chartDatasets"]}
    assert labels == {"Delivery": 1, "Send": 1}
    # The destination's cost row: Send and Delivery with campaign=book are its 2 metrics.
    cost_row = [line for line in r["costText"].splitlines() if set_name in line]
    assert cost_row and "\t2\t" in cost_row[0] and "$0.60" in cost_row[0], r["costText"]
    assert "campaign" in cost_row[0]
    assert "Send" in r["types"] and "Delivery" in r["types"]
    assert r["json"]["eventType"] == "Send"
    assert r["json"]["mail"]["messageId"] == message_id
    assert r["json"]["mail"]["tags"]["campaign"] == ["book"]


# ---------------------------------------------------------------------------------------------
# Mailbox, templates, account, layout


def test_mailbox_shows_html_sandboxed_without_scripts_or_remote_loads(server, ses, browser_ready):
    beacon = Sink()
    subject = unique("Newsletter")
    html = (f'<h1 id="t">Spring news</h1><p>Read on.</p>'
            f'<img src="{beacon.url}/img.gif" alt="tracker">'
            f'<script>document.getElementById("t").textContent = "SCRIPT RAN";'
            f'new Image().src = "{beacon.url}/script";</script>'
            f'<img src="x" onerror="new Image().src=\'{beacon.url}/onerror\'">'
            f'<link rel="stylesheet" href="{beacon.url}/style.css">')
    try:
        ses.send_email(Source="news@example.com",
                       Destination={"ToAddresses": ["reader@example.org"]},
                       Message={"Subject": {"Data": subject},
                                "Body": {"Html": {"Data": html}, "Text": {"Data": "Spring"}}})
        wait_until(lambda: subject.encode() in server.raw("GET", "/_mailtally/mailbox").body,
                   10, what="the message in the mailbox")
        r = run_browser(server, "mailbox", subject=subject)
        time.sleep(0.5)
        assert beacon.hits == [], beacon.hits
    finally:
        beacon.close()
    assert r["sandbox"] == ""
    # The browser reports what it refused: the remote image under the CSP, the script under
    # the sandbox (or the CSP).
    assert any("img.gif" in b for b in r["blocked"]), r["blocked"]
    assert "Spring news" in r["frameText"] and "SCRIPT RAN" not in r["frameText"]
    assert "reader@example.org" in r["headers"]
    assert r["rawHasSubject"] is True


def test_templates_page(server, browser_ready):
    r = run_browser(server, "templates", template=unique("tpl"))
    if "notImplemented" in r:
        assert any("ListEmailTemplates" in t for t in r["notImplemented"])
        pytest.skip("the server answers NotImplemented for the SES v2 template operations "
                    "(implemented on another branch); the page shows that error as returned")
    assert "Hi Kim" in r["rendered"]
    assert "not valid JSON" in r["badJson"]
    assert r["renderError"].startswith("BadRequestException: ") and "name" in r["renderError"]


def test_account_page_creates_a_key_shown_once(server, browser_ready):
    identity = f"{unique('id')}@example.com"
    r = run_browser(server, "account", identity=identity, keyName="ci-key")
    line = r["secretLine"]
    assert line.startswith("export AWS_ACCESS_KEY_ID=")
    key_id, secret = (part.split("=", 1)[1] for part in line.split()[1:3])
    # The new key works with boto3 at once, and its secret is never shown again.
    sesv2 = server.client("sesv2", key_id=key_id, secret=secret)
    names = [i["IdentityName"] for i in sesv2.list_email_identities()["EmailIdentities"]]
    assert identity in names
    assert r["secretAfterReload"] == 0
    cookie, token = console_session(server)
    keys = server.raw("GET", "/console/api/keys", headers={"Cookie": cookie}).json()["keys"]
    assert {"accessKeyId": key_id, "name": "ci-key"}.items() <= \
        [k for k in keys if k["accessKeyId"] == key_id][0].items()
    assert all("secretAccessKey" not in k for k in keys)
    # The key of one's own session cannot be deleted; another one can.
    own = server.raw("DELETE", f"/console/api/keys/{server.key_id}", b"",
                     {"Cookie": cookie, "X-CSRF-Token": token})
    assert own.status == 400 and own.json()["code"] == "KeyInUse"
    gone = server.raw("DELETE", f"/console/api/keys/{key_id}", b"",
                      {"Cookie": cookie, "X-CSRF-Token": token})
    assert gone.status == 200
    assert r["sent"].isdigit()


def test_phone_width_no_horizontal_scroll_every_control_labelled(guide_flow, server, browser_ready):
    set_name, _, _ = guide_flow
    pages = [["sets", "#/sets", "Configuration sets"],
             ["set", f"#/sets/{set_name}", f"Configuration set {set_name}"],
             ["metrics", "#/metrics", "Metrics"], ["events", "#/events", "Event log"],
             ["mailbox", "#/mailbox", "Mailbox"], ["templates", "#/templates", "Templates"],
             ["account", "#/account", "Account"]]
    r = run_browser(server, "phone", pages=pages)
    assert r["widths"].pop("focusInDialog")["inside"] is True
    for name, w in r["widths"].items():
        assert w["scroll"] <= w["client"], (name, w)
    assert all(not v for v in r["unlabelled"].values()), r["unlabelled"]
    assert r["widths"]["dialog"]["dialog"] <= r["widths"]["dialog"]["dialogClient"] + 1
