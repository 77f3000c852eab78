"""Open and click tracking end to end (spec section 7, issue 3 item 9): boto3 sends HTML mail
through a configuration set with Open/Click destinations; the message in the built-in mailbox
has tracked links (ses:no-track / ses:tags honoured and removed) and an open pixel; fetching a
link gives 302 to the original and a Click event with its linkTags; the pixel gives an Open;
CloudWatch counts both; forged tokens get 404 and record nothing."""
import datetime
import email
import email.policy
import json
import re
import urllib.parse
from html.parser import HTMLParser

import pytest

import helpers
from helpers import unique, wait_until

READER = "reader@example.org"
UA = "Mozilla/5.0 (X11; Linux x86_64) mailtally-tests/1.0"

HTML = ('<html><head><title>T</title></head><body>\r\n'
        '<p>Hello &amp; welcome</p>\r\n'
        '<a ses:tags="product:book;genre:fiction;" class="btn" '
        'href="https://www.example.com/books?id=1&amp;x=2">Books</a>\r\n'
        '<A HREF="http://example.com/UPPER" SES:NO-TRACK>upper no-track</A>\r\n'
        '<a href="http://example.com/a b">not RFC 3986</a>\r\n'
        '<a href="mailto:someone@example.com">mail</a>\r\n'
        '</body></html>\r\n')


# -- helpers -----------------------------------------------------------------------------------

def now():
    return datetime.datetime.now(datetime.timezone.utc)


def total(cloudwatch, metric, dims):
    out = cloudwatch.get_metric_statistics(
        Namespace="AWS/SES", MetricName=metric, StartTime=now() - datetime.timedelta(hours=1),
        EndTime=now() + datetime.timedelta(hours=1), Period=7200, Statistics=["Sum"],
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()])
    return sum(p["Sum"] for p in out["Datapoints"])


def wait_total(cloudwatch, metric, dims, expected):
    wait_until(lambda: total(cloudwatch, metric, dims) == expected, 10,
               what=f"{metric} {dims} == {expected}")


def tracked_set(ses, types=("click", "open")):
    """A configuration set with a Click destination (linkTag dimension) and an Open one."""
    cs = unique("trk")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    if "click" in types:
        ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
            "Name": "clicks", "Enabled": True, "MatchingEventTypes": ["click"],
            "CloudWatchDestination": {"DimensionConfigurations": [
                helpers.dim("product", "linkTag", "none"),
                helpers.dim("ses:configuration-set", "messageTag", "x")]}})
    if "open" in types:
        ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
            "Name": "opens", "Enabled": True, "MatchingEventTypes": ["open"],
            "CloudWatchDestination": {"DimensionConfigurations": [
                helpers.dim("ses:configuration-set", "messageTag", "x")]}})
    return cs


def send_html(ses, cs, html=HTML, text="plain text http://example.com/text"):
    body = {"Html": {"Data": html}}
    if text is not None:
        body["Text"] = {"Data": text}
    kw = {"ConfigurationSetName": cs} if cs else {}
    return ses.send_email(Source="sender@example.com", Destination={"ToAddresses": [READER]},
                          Message={"Subject": {"Data": "Tracked"}, "Body": body},
                          **kw)["MessageId"]


def mailbox_raw(server, message_id) -> bytes:
    def get():
        r = helpers.send(server.endpoint, "GET", f"/_mailtally/mailbox/{message_id}")
        return r.body if r.status == 200 else None
    return wait_until(get, 10, what=f"mailbox message {message_id}")


def parts(raw: bytes):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return msg, [p for p in msg.walk() if not p.is_multipart()]


def html_of(raw: bytes) -> str:
    _, leaves = parts(raw)
    htmls = [p for p in leaves if p.get_content_type() == "text/html"
             and p.get_content_disposition() != "attachment"]
    assert len(htmls) == 1, raw
    return htmls[0].get_content()


class Anchors(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors, self.images = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.anchors.append(dict(attrs))
        elif tag == "img":
            self.images.append(dict(attrs))


def anchors(html: str):
    p = Anchors()
    p.feed(html)
    return p


def events(server, message_id, type_=None):
    q = {"message_id": message_id}
    if type_:
        q["type"] = type_
    r = helpers.send(server.endpoint, "GET", "/_mailtally/events?" + urllib.parse.urlencode(q))
    assert r.status == 200, r.body
    return r.json()["events"]


def hit(url: str, headers=None):
    """GET a tracking URL without following redirects."""
    u = urllib.parse.urlsplit(url)
    return helpers.send(f"{u.scheme}://{u.netloc}", "GET", u.path,
                        headers={"User-Agent": UA, **(headers or {})})


# -- tests -------------------------------------------------------------------------------------

def test_simple_send_is_instrumented_and_hits_record_click_and_open(server, ses, cloudwatch):
    cs = tracked_set(ses)
    mid = send_html(ses, cs)
    raw = mailbox_raw(server, mid)
    html = html_of(raw)
    assert "ses:tags" not in html.lower() and "ses:no-track" not in html.lower()
    found = anchors(html)
    hrefs = [a["href"] for a in found.anchors]
    click_prefix = server.endpoint + "/t/c/"
    assert hrefs[0].startswith(click_prefix), hrefs
    assert found.anchors[0]["class"] == "btn"
    assert hrefs[1:] == ["http://example.com/UPPER", "http://example.com/a b",
                         "mailto:someone@example.com"]
    # Everything but the changed attributes is byte-identical; the pixel sits before </body>.
    pixel = [i for i in found.images if "/t/o/" in i["src"]]
    assert len(pixel) == 1 and pixel[0]["src"].startswith(server.endpoint + "/t/o/")
    assert pixel[0]["width"] == "1" and pixel[0]["height"] == "1"
    restored = re.sub(r'<img alt="" src="[^"]*/t/o/[^"]*"[^>]*/>', "", html)
    restored = restored.replace(f'href="{hrefs[0]}"', 'href="https://www.example.com/books?id=1&amp;x=2"')
    expected = HTML.replace('<a ses:tags="product:book;genre:fiction;" class', "<a class") \
        .replace(" SES:NO-TRACK>", ">")
    assert restored.replace("\r\n", "\n") == expected.replace("\r\n", "\n")
    assert html.index("/t/o/") < html.index("</body>")
    # The text part is not touched.
    _, leaves = parts(raw)
    assert [p.get_content().rstrip("\r\n") for p in leaves
            if p.get_content_type() == "text/plain"] == ["plain text http://example.com/text"]

    r = hit(hrefs[0])
    assert r.status == 302
    assert r.header("Location") == "https://www.example.com/books?id=1&x=2"
    assert r.header("Cache-Control") == "no-store"
    clicks = wait_until(lambda: events(server, mid, "Click"), 10, what="Click event")
    assert len(clicks) == 1
    rec = clicks[0]["record"]
    assert rec["eventType"] == "Click"
    assert rec["mail"]["messageId"] == mid
    assert rec["mail"]["tags"]["ses:configuration-set"] == [cs]
    assert rec["click"]["link"] == "https://www.example.com/books?id=1&x=2"
    assert rec["click"]["linkTags"] == {"product": ["book"], "genre": ["fiction"]}
    assert rec["click"]["ipAddress"] == "127.0.0.1"
    assert rec["click"]["userAgent"] == UA
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rec["click"]["timestamp"])
    assert clicks[0]["configurationSet"] == cs
    wait_total(cloudwatch, "Click", {"product": "book", "ses:configuration-set": cs}, 1)
    # Repeated clicks each count, as in SES.
    assert hit(hrefs[0]).status == 302
    wait_total(cloudwatch, "Click", {"product": "book", "ses:configuration-set": cs}, 2)

    r = hit(pixel[0]["src"])
    assert r.status == 200
    assert r.header("Content-Type") == "image/gif"
    assert r.header("Cache-Control") == "no-store"
    assert r.body[:6] == b"GIF89a" and r.body[6:10] == b"\x01\x00\x01\x00" and r.body[-1:] == b";"
    opens = wait_until(lambda: events(server, mid, "Open"), 10, what="Open event")
    assert opens[0]["record"]["open"]["ipAddress"] == "127.0.0.1"
    assert opens[0]["record"]["open"]["userAgent"] == UA
    assert opens[0]["record"]["mail"]["messageId"] == mid
    wait_total(cloudwatch, "Open", {"ses:configuration-set": cs}, 1)


RAW_TEMPLATE = """From: Sender <sender@example.com>
To: {to}
Subject: raw tracked
X-SES-CONFIGURATION-SET: {cs}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit

Plain http://example.com/plain

--inner
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

<html><body><p>Caf=C3=A9</p><a href=3D"https://shop.example.com/p?q=3D1" ses:tags=3D"product:=
coffee">buy</a>
{{{{ses:openTracker}}}}<p>end</p></body></html>

--inner--

--outer
Content-Type: text/html; charset=UTF-8; name="keep.html"
Content-Disposition: attachment; filename="keep.html"
Content-Transfer-Encoding: base64

PGEgaHJlZj0iaHR0cHM6Ly9hdHRhY2guZXhhbXBsZS5jb20vIj5hdHQ8L2E+Cg==

--outer--
"""


def test_raw_message_html_part_is_rewritten_inside_the_mime_structure(server, ses, cloudwatch):
    cs = tracked_set(ses)
    data = RAW_TEMPLATE.format(to=READER, cs=cs).replace("\n", "\r\n").encode()
    mid = ses.send_raw_email(RawMessage={"Data": data})["MessageId"]
    raw = mailbox_raw(server, mid)
    msg, leaves = parts(raw)
    html_part = [p for p in leaves if p.get_content_type() == "text/html"
                 and p.get_content_disposition() != "attachment"][0]
    assert html_part["Content-Transfer-Encoding"] == "quoted-printable"
    html = html_part.get_content()
    assert "Café" in html and "{{ses:openTracker}}" not in html and "ses:tags" not in html
    found = anchors(html)
    assert found.anchors[0]["href"].startswith(server.endpoint + "/t/c/")
    # The placeholder was replaced by the pixel, which is therefore before <p>end</p>.
    assert html.index("/t/o/") < html.index("<p>end</p>")
    # Other parts are untouched: the plain part and the attached HTML file.
    attached = [p for p in leaves if p.get_content_disposition() == "attachment"][0]
    assert attached.get_content() == '<a href="https://attach.example.com/">att</a>\n'
    assert b"PGEgaHJlZj0iaHR0cHM6Ly9hdHRhY2guZXhhbXBsZS5jb20vIj5hdHQ8L2E+Cg==" in raw
    assert b"Plain http://example.com/plain" in raw
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert "X-SES-CONFIGURATION-SET" not in msg

    r = hit(found.anchors[0]["href"])
    assert r.status == 302 and r.header("Location") == "https://shop.example.com/p?q=1"
    clicks = wait_until(lambda: events(server, mid, "Click"), 10, what="Click event")
    assert clicks[0]["record"]["click"]["linkTags"] == {"product": ["coffee"]}
    wait_total(cloudwatch, "Click", {"product": "coffee", "ses:configuration-set": cs}, 1)


def test_forged_or_altered_tokens_get_404_and_record_nothing(server, ses):
    cs = tracked_set(ses)
    mid = send_html(ses, cs)
    html = html_of(mailbox_raw(server, mid))
    link = anchors(html).anchors[0]["href"]
    pixel = [i["src"] for i in anchors(html).images if "/t/o/" in i["src"]][0]
    token = link.rsplit("/", 1)[1]
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    open_token = pixel.rsplit("/", 1)[1]
    bad = [
        f"{server.endpoint}/t/c/{flipped}",
        f"{server.endpoint}/t/c/{token[:-1]}",
        f"{server.endpoint}/t/c/{token}A",
        f"{server.endpoint}/t/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        f"{server.endpoint}/t/c/{open_token}",   # an open token is not a click token
        f"{server.endpoint}/t/o/{token}",        # and the reverse
        f"{server.endpoint}/t/o/",
        f"{server.endpoint}/t/c/not*base64",
    ]
    for url in bad:
        r = hit(url)
        assert r.status == 404, url
        assert r.header("Location") is None
    assert hit(link).status == 302  # the genuine one still works
    wait_until(lambda: events(server, mid, "Click"), 10, what="Click event")
    assert len(events(server, mid, "Click")) == 1
    assert events(server, mid, "Open") == []
    # HEAD answers like GET but records nothing (link checkers, prefetchers).
    u = urllib.parse.urlsplit(link)
    assert helpers.send(server.endpoint, "HEAD", u.path).status == 302
    assert len(events(server, mid, "Click")) == 1


def test_sets_without_open_or_click_destinations_leave_the_html_untouched(server, ses):
    cs = unique("plain")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination=(
        helpers.v1_cw_destination("cw", types=("send", "delivery"))))
    # A disabled click destination does not count either.
    ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination=(
        helpers.v1_cw_destination("off", types=("click", "open"), enabled=False)))
    for set_name in (cs, None):
        mid = send_html(ses, set_name)
        assert html_of(mailbox_raw(server, mid)).replace("\r\n", "\n") == \
            HTML.replace("\r\n", "\n")


def test_only_the_enabled_event_kinds_are_instrumented(server, ses):
    click_only = tracked_set(ses, types=("click",))
    html = html_of(mailbox_raw(server, send_html(ses, click_only)))
    assert "/t/o/" not in html and anchors(html).anchors[0]["href"].startswith(server.endpoint)
    assert "ses:tags" not in html
    open_only = tracked_set(ses, types=("open",))
    html = html_of(mailbox_raw(server, send_html(ses, open_only)))
    assert "/t/o/" in html and "/t/c/" not in html
    assert anchors(html).anchors[0]["href"] == "https://www.example.com/books?id=1&x=2"
    assert "ses:tags" not in html and "ses:no-track" not in html.lower()


def test_250_links_at_most_are_tracked(server, ses):
    cs = tracked_set(ses, types=("click",))
    links = "".join(f'<a href="https://example.com/{i}">{i}</a>\n' for i in range(260))
    html = html_of(mailbox_raw(server, send_html(ses, cs, html=f"<body>{links}</body>",
                                                 text=None)))
    hrefs = [a["href"] for a in anchors(html).anchors]
    assert len(hrefs) == 260
    assert all(h.startswith(server.endpoint + "/t/c/") for h in hrefs[:250])
    assert hrefs[250:] == [f"https://example.com/{i}" for i in range(250, 260)]


def test_custom_redirect_domain_is_used_over_https(server, ses, sesv2):
    cs = tracked_set(ses)
    sesv2.put_configuration_set_tracking_options(ConfigurationSetName=cs,
                                                 CustomRedirectDomain="click.example.net")
    html = html_of(mailbox_raw(server, send_html(ses, cs)))
    assert anchors(html).anchors[0]["href"].startswith("https://click.example.net/t/c/")
    assert "https://click.example.net/t/o/" in html
    # The token is the server's own: served here once the domain points at this server.
    path = urllib.parse.urlsplit(anchors(html).anchors[0]["href"]).path
    assert helpers.send(server.endpoint, "GET", path).status == 302


def test_x_forwarded_for_is_used_from_a_loopback_proxy(server, ses):
    cs = tracked_set(ses)
    mid = send_html(ses, cs)
    link = anchors(html_of(mailbox_raw(server, mid))).anchors[0]["href"]
    assert hit(link, {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}).status == 302
    clicks = wait_until(lambda: events(server, mid, "Click"), 10, what="Click event")
    assert clicks[0]["record"]["click"]["ipAddress"] == "203.0.113.9"
    assert hit(link, {"X-Forwarded-For": "not-an-ip"}).status == 302
    wait_until(lambda: len(events(server, mid, "Click")) == 2, 10, what="2 clicks")
    assert events(server, mid, "Click")[1]["record"]["click"]["ipAddress"] == "127.0.0.1"


def test_public_url_sets_the_link_base_and_the_secret_survives_restarts(server_factory):
    srv = server_factory(extra_args=("--public-url", "https://track.example.test/mt/"))
    ses = srv.client("ses")
    cs = tracked_set(ses)
    mid = send_html(ses, cs)
    html = html_of(mailbox_raw(srv, mid))
    link = anchors(html).anchors[0]["href"]
    assert link.startswith("https://track.example.test/mt/t/c/"), link
    assert "https://track.example.test/mt/t/o/" in html
    token_path = "/t/c/" + link.rsplit("/", 1)[1]
    srv.restart()
    r = helpers.send(srv.endpoint, "GET", token_path)
    assert r.status == 302 and r.header("Location") == "https://www.example.com/books?id=1&x=2"
    wait_until(lambda: events(srv, mid, "Click"), 10, what="Click after restart")


def test_public_url_from_the_config_file(server_factory, tmp_path):
    conf = tmp_path / "mailtally.toml"
    conf.write_text('public_url = "http://mail.example.test:8080"\n')
    srv = server_factory(extra_args=("--config", str(conf)))
    ses = srv.client("ses")
    cs = tracked_set(ses, types=("open",))
    html = html_of(mailbox_raw(srv, send_html(ses, cs)))
    assert "http://mail.example.test:8080/t/o/" in html
    # The command line wins over the file.
    srv2 = server_factory(extra_args=("--config", str(conf), "--public-url", "http://cli.test"))
    ses2 = srv2.client("ses")
    cs2 = tracked_set(ses2, types=("open",))
    assert "http://cli.test/t/o/" in html_of(mailbox_raw(srv2, send_html(ses2, cs2)))


def test_raw_message_bytes_stay_identical_outside_the_changed_attributes(server, ses):
    cs = tracked_set(ses, types=("click",))
    raw = ("From: =?UTF-8?B?U8OpbmRlcg==?= <sender@example.com>\r\n"
           f"To: {READER},\r\n  b@example.org\r\n"
           "Subject: folded\r\n subject line\r\n"
           "X-Custom:   spaced   value  \r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/related;\r\n\tboundary=\"rel\"; type=\"text/html\"\r\n"
           "\r\n"
           "preamble text\r\n"
           "--rel\r\n"
           "Content-Type: text/html; charset=\"iso-8859-1\"\r\n"
           "Content-Transfer-Encoding: 8bit\r\n"
           "\r\n"
           "<p>Caf\xe9 <a\r\nhref=\"https://e.test/x\"   title='t'>x</a><!-- <a href=\"https://c.test/\"> -->"
           "</p>\r\n"
           "--rel\r\n"
           "Content-Type: image/png\r\n"
           "Content-Transfer-Encoding: base64\r\n"
           "Content-ID: <img1>\r\n"
           "\r\n"
           "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
           "rkJggg==\r\n"
           "--rel--\r\n"
           "epilogue\r\n").encode("latin-1")
    mid = ses.send_raw_email(RawMessage={"Data": raw}, ConfigurationSetName=cs)["MessageId"]
    out = mailbox_raw(server, mid)
    link = re.search(rb'href="(http://[^"]+/t/c/[^"]+)"', out).group(1)
    assert hit(link.decode()).header("Location") == "https://e.test/x"
    lines = out.split(b"\r\n")
    assert lines[0].startswith(b"Date: ") and lines[1].startswith(b"Message-ID: <" + mid.encode())
    restored = b"\r\n".join(lines[2:]).replace(link, b"https://e.test/x")
    assert restored == raw


def test_a_7bit_part_whose_lines_grow_too_long_becomes_quoted_printable(server, ses):
    cs = tracked_set(ses, types=("click",))
    line = "".join(f'<a href="https://e.test/{i}">{i}</a>' for i in range(12))
    assert len(line) < 998
    untracked = mailbox_raw(server, send_html(ses, None, html=f"<p>{line}</p>", text=None))
    assert email.message_from_bytes(untracked)["Content-Transfer-Encoding"] == "7bit"
    mid = send_html(ses, cs, html=f"<p>{line}</p>", text=None)
    raw = mailbox_raw(server, mid)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Content-Transfer-Encoding"] == "quoted-printable"
    assert all(len(x) <= 998 for x in raw.split(b"\r\n"))
    html = msg.get_content()
    hrefs = [a["href"] for a in anchors(html).anchors]
    assert len(hrefs) == 12 and all("/t/c/" in h for h in hrefs)
    assert hit(hrefs[3]).header("Location") == "https://e.test/3"


def test_relayed_message_has_tracked_links_and_hits_record_click_and_open(server_factory):
    """Issue 3's relay + tracking flow: a message to an ordinary address reaches a real SMTP
    server (aiosmtpd) with its links rewritten and the SES headers removed; following the
    rewritten link redirects to the original and records a Click with its link tags; the pixel
    records an Open."""
    from smtp_sink import SmtpSink
    sink = SmtpSink().start()
    try:
        srv = server_factory(extra_args=("--relay", f"smtp://{sink.url_hostport}"))
        ses = srv.client("ses")
        cs = tracked_set(ses)
        raw = ("From: sender@example.com\r\nTo: reader@example.org\r\nSubject: relayed\r\n"
               f"X-SES-CONFIGURATION-SET: {cs}\r\nX-SES-MESSAGE-TAGS: campaign=book\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
               + HTML).encode()
        mid = ses.send_raw_email(RawMessage={"Data": raw})["MessageId"]
        wait_until(lambda: sink.messages, 20, what="the relayed message")
        got = sink.messages[0]
        assert got.rcpt_tos == ["reader@example.org"]
        msg = got.message
        assert msg["X-SES-CONFIGURATION-SET"] is None and msg["X-SES-MESSAGE-TAGS"] is None
        html = html_of(got.data)
        found = anchors(html)
        click_prefix = srv.endpoint + "/t/c/"
        assert found.anchors[0]["href"].startswith(click_prefix), found.anchors
        assert "ses:tags" not in found.anchors[0]
        pixel = [i["src"] for i in found.images if i["src"].startswith(srv.endpoint + "/t/o/")]
        assert len(pixel) == 1

        r = hit(found.anchors[0]["href"])
        assert r.status == 302
        assert r.header("Location") == "https://www.example.com/books?id=1&x=2"
        assert hit(pixel[0]).status == 200
        clicks = wait_until(lambda: events(srv, mid, "Click"), 10, what="the Click event")
        assert clicks[0]["record"]["click"]["linkTags"] == {"product": ["book"],
                                                            "genre": ["fiction"]}
        assert wait_until(lambda: events(srv, mid, "Open"), 10, what="the Open event")
        assert [e["eventType"] for e in events(srv, mid, "Delivery")] == ["Delivery"]
    finally:
        sink.stop()
