"""What CloudWatch cannot do (issue 4, section 5), against the real binary with real clients:
the cost and cardinality guard with per-destination caps, rollups across dimensions, replay of
the event log, diagnostics of unpublished datapoints, GET /metrics scraped by a real Prometheus,
and the account-level Reputation.BounceRate / ComplaintRate (docs/local-api.md,
docs/event-publishing.md)."""
import datetime
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from helpers import unique, wait_until

SIM = "success@simulator.amazonses.com"


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def window():
    return now() - datetime.timedelta(hours=1), now() + datetime.timedelta(hours=1)


def total(cloudwatch, metric, dims, namespace="AWS/SES", stat="Sum"):
    start, end = window()
    out = cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName=metric, StartTime=start, EndTime=end, Period=7200,
        Statistics=[stat], Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()])
    return sum(p[stat] for p in out["Datapoints"])


def wait_total(cloudwatch, metric, dims, expected, namespace="AWS/SES"):
    wait_until(lambda: total(cloudwatch, metric, dims, namespace) == expected, 10,
               what=f"{metric} {dims} == {expected}")


def cw_destination(ses, cs, name, dims, types=("send",)):
    ses.create_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
        "Name": name, "Enabled": True, "MatchingEventTypes": list(types),
        "CloudWatchDestination": {"DimensionConfigurations": [
            {"DimensionName": n, "DimensionValueSource": src, "DefaultDimensionValue": dflt}
            for n, src, dflt in dims]}})


def send(ses, cs, tags=(), to=SIM):
    kw = {"ConfigurationSetName": cs} if cs else {}
    return ses.send_email(Source="sender@example.com", Destination={"ToAddresses": [to]},
                          Message={"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "x"}}},
                          Tags=[{"Name": k, "Value": v} for k, v in tags], **kw)["MessageId"]


def raw_send(ses, cs, headers):
    lines = ["From: sender@example.com", f"To: {SIM}", "Subject: raw",
             f"X-SES-CONFIGURATION-SET: {cs}"] + [f"{k}: {v}" for k, v in headers]
    data = ("\r\n".join(lines) + "\r\n\r\nbody\r\n").encode()
    return ses.send_raw_email(RawMessage={"Data": data})["MessageId"]


def local(server, method, path, body=None):
    """(status, parsed JSON) of an unsigned local endpoint."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.endpoint + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def destination_cost(server, cs, dest, price=None):
    q = "" if price is None else f"?price={price}"
    status, out = local(server, "GET", "/_mailtally/metrics/cost" + q)
    assert status == 200, out
    for d in out["destinations"]:
        if d["configurationSet"] == cs and d["eventDestination"] == dest:
            return d
    raise AssertionError(f"{cs}/{dest} not in {out}")


def test_cost_counts_metrics_per_destination_and_names_the_driving_dimension(server_factory):
    srv = server_factory(extra_args=("--cloudwatch-price-per-metric", "0.5"))
    ses, cloudwatch = srv.client("ses"), srv.client("cloudwatch")
    cs = unique("cost")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("campaign", "messageTag", "none"),
                                   ("genre", "messageTag", "none")])
    cw_destination(ses, cs, "idle", [("campaign", "messageTag", "none")], types=("click",))
    campaigns = [f"c{i}" for i in range(7)]
    for c in campaigns:
        send(ses, cs, [("campaign", c), ("genre", "scifi")])
    send(ses, cs, [("campaign", "c0"), ("genre", "scifi")])  # an existing metric again
    wait_total(cloudwatch, "Send", {"campaign": "c6", "genre": "scifi"}, 1)
    wait_total(cloudwatch, "Send", {"campaign": "c0", "genre": "scifi"}, 2)

    d = destination_cost(srv, cs, "cw")
    assert d["metrics"] == 7
    assert d["estimatedMonthlyCost"] == 3.5  # 7 metrics x $0.50 (the serve flag)
    assert d["drivingDimension"] == "campaign"
    assert {x["name"]: x["distinctValues"] for x in d["dimensions"]} == {"campaign": 7,
                                                                         "genre": 1}
    assert d["cap"] is None and d["capReached"] is False
    assert destination_cost(srv, cs, "cw", price="0.30")["estimatedMonthlyCost"] == 2.1
    idle = destination_cost(srv, cs, "idle")  # a destination that published nothing yet
    assert idle["metrics"] == 0 and idle["drivingDimension"] is None
    status, out = local(srv, "GET", "/_mailtally/metrics/cost")
    assert out["pricePerMetricMonth"] == 0.5
    # 7 destination metrics plus the account-level Send (and Delivery, once delivered).
    assert out["sesMetrics"] >= 8
    assert local(srv, "GET", "/_mailtally/metrics/cost?price=-1")[0] == 400


def test_cap_refuses_new_series_counts_drops_and_can_be_raised(server_factory):
    srv = server_factory(extra_args=("--series-cap", "2"))
    ses, cloudwatch = srv.client("ses"), srv.client("cloudwatch")
    cs = unique("cap")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("campaign", "messageTag", "none")])
    send(ses, cs, [("campaign", "a")])
    send(ses, cs, [("campaign", "b")])
    refused = send(ses, cs, [("campaign", "c")])
    send(ses, cs, [("campaign", "a")])
    wait_total(cloudwatch, "Send", {"campaign": "a"}, 2)
    dropped = {"ConfigurationSet": cs, "EventDestination": "cw", "Reason": "cap_reached"}
    wait_total(cloudwatch, "DroppedDatapoints", dropped, 1, namespace="mailtally/Publishing")
    assert total(cloudwatch, "Send", {"campaign": "b"}) == 1
    assert total(cloudwatch, "Send", {"campaign": "c"}) == 0
    assert cloudwatch.list_metrics(Namespace="AWS/SES", MetricName="Send",
                                   Dimensions=[{"Name": "campaign", "Value": "c"}])["Metrics"] == []
    d = destination_cost(srv, cs, "cw")
    assert d["metrics"] == 2 and d["capReached"] is True
    assert d["cap"] == {"limit": 2, "source": "default"}

    status, diag = local(srv, "GET", "/_mailtally/metrics/diagnostics")
    [entry] = [x for x in diag["drops"] if x["configurationSet"] == cs]
    assert (entry["reason"], entry["count"]) == ("cap_reached", 1)
    assert entry["examples"][0]["messageId"] == refused

    # Raise the cap for this destination (durable override) and the next new series is created.
    assert local(srv, "PUT", f"/_mailtally/metrics/caps/{cs}/cw", {"cap": 3}) == (
        200, {"configurationSet": cs, "eventDestination": "cw", "cap": 3})
    send(ses, cs, [("campaign", "c")])
    wait_total(cloudwatch, "Send", {"campaign": "c"}, 1)
    send(ses, cs, [("campaign", "d")])  # beyond 3
    wait_total(cloudwatch, "DroppedDatapoints", dropped, 2, namespace="mailtally/Publishing")
    assert destination_cost(srv, cs, "cw")["cap"] == {"limit": 3, "source": "override"}
    srv.restart()
    assert destination_cost(srv, cs, "cw")["cap"] == {"limit": 3, "source": "override"}
    status, caps = local(srv, "GET", "/_mailtally/metrics/caps")
    assert caps["defaultCap"] == 2
    assert {"configurationSet": cs, "eventDestination": "cw", "cap": 3} in caps["overrides"]
    # Errors: bad bodies, unknown destinations, wrong methods.
    assert local(srv, "PUT", f"/_mailtally/metrics/caps/{cs}/cw", {"cap": -1})[0] == 400
    assert local(srv, "PUT", f"/_mailtally/metrics/caps/{cs}/nope", {"cap": 1})[0] == 404
    assert local(srv, "POST", f"/_mailtally/metrics/caps/{cs}/cw", {"cap": 1})[0] == 405
    # null removes the override: the default (2) applies again.
    assert local(srv, "PUT", f"/_mailtally/metrics/caps/{cs}/cw", {"cap": None})[0] == 200
    assert destination_cost(srv, cs, "cw")["cap"] == {"limit": 2, "source": "default"}


def rollup(server, **params):
    start, end = window()
    params.setdefault("start", start.isoformat())
    params.setdefault("end", end.isoformat())
    params.setdefault("period", "7200")
    status, out = local(server, "GET",
                        "/_mailtally/metrics/rollup?" + urllib.parse.urlencode(params))
    assert status == 200, out
    return {tuple(sorted(g["dimensions"].items())): sum(p["value"] for p in g["datapoints"])
            for g in out["groups"]}


def test_rollup_by_one_dimension_equals_the_sum_of_the_series(server, ses, cloudwatch):
    cs = unique("roll")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("campaign", "messageTag", "none"),
                                   ("genre", "messageTag", "none"),
                                   ("ses:configuration-set", "messageTag", "x")])
    sent = [("book", "scifi"), ("book", "poetry"), ("book", "poetry"), ("film", "scifi")]
    for c, g in sent:
        send(ses, cs, [("campaign", c), ("genre", g)])
    series = {(c, g): sent.count((c, g)) for c, g in set(sent)}
    for (c, g), n in series.items():
        wait_total(cloudwatch, "Send", {"campaign": c, "genre": g, "ses:configuration-set": cs}, n)
    # CloudWatch itself stays exact: campaign alone is not a metric.
    assert total(cloudwatch, "Send", {"campaign": "book", "ses:configuration-set": cs}) == 0

    by_campaign = rollup(server, metric="Send", by=f"ses:configuration-set,campaign")
    for c in ("book", "film"):
        per_series = sum(total(cloudwatch, "Send",
                               {"campaign": c, "genre": g, "ses:configuration-set": cs})
                         for g in ("scifi", "poetry"))
        assert by_campaign[(("campaign", c), ("ses:configuration-set", cs))] == per_series
    assert by_campaign[(("campaign", "book"), ("ses:configuration-set", cs))] == 3
    by_genre = rollup(server, metric="Send", by="ses:configuration-set,genre")
    assert by_genre[(("genre", "poetry"), ("ses:configuration-set", cs))] == 2
    counts = rollup(server, metric="Send", by="ses:configuration-set", statistic="SampleCount")
    assert counts[(("ses:configuration-set", cs),)] == 4
    maxima = rollup(server, metric="Send", by="ses:configuration-set", statistic="Maximum")
    assert maxima[(("ses:configuration-set", cs),)] == 1
    assert local(server, "GET", "/_mailtally/metrics/rollup?metric=Send&statistic=p99")[0] == 400
    assert local(server, "GET", "/_mailtally/metrics/rollup")[0] == 400


def test_replay_after_adding_a_dimension_backfills_each_event_once(server, ses, cloudwatch):
    cs = unique("replay")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("campaign", "messageTag", "none")])
    for _ in range(3):
        send(ses, cs, [("campaign", "book"), ("genre", "scifi")])
    send(ses, cs, [("campaign", "book")])  # no genre: the default after the change
    wait_total(cloudwatch, "Send", {"campaign": "book"}, 4)

    # Add the genre dimension; new events publish with both dimensions.
    ses.update_configuration_set_event_destination(ConfigurationSetName=cs, EventDestination={
        "Name": "cw", "Enabled": True, "MatchingEventTypes": ["send"],
        "CloudWatchDestination": {"DimensionConfigurations": [
            {"DimensionName": "campaign", "DimensionValueSource": "messageTag",
             "DefaultDimensionValue": "none"},
            {"DimensionName": "genre", "DimensionValueSource": "messageTag",
             "DefaultDimensionValue": "unknown"}]}})
    send(ses, cs, [("campaign", "book"), ("genre", "scifi")])
    both = {"campaign": "book", "genre": "scifi"}
    wait_total(cloudwatch, "Send", both, 1)

    body = {"configurationSet": cs, "eventDestination": "cw",
            "start": (now() - datetime.timedelta(hours=1)).isoformat()}
    status, first = local(server, "POST", "/_mailtally/metrics/replay", body)
    assert status == 200, first
    assert first["datapoints"] == 4 and first["alreadyCovered"] >= 1
    assert total(cloudwatch, "Send", both) == 4  # 3 backfilled + 1 live
    assert total(cloudwatch, "Send", {"campaign": "book", "genre": "unknown"}) == 1
    assert total(cloudwatch, "Send", {"campaign": "book"}) == 4  # the old metric is untouched

    status, second = local(server, "POST", "/_mailtally/metrics/replay", body)
    assert status == 200 and second["datapoints"] == 0
    assert second["alreadyCovered"] == first["alreadyCovered"] + first["eventsApplied"]
    assert total(cloudwatch, "Send", both) == 4
    assert local(server, "POST", "/_mailtally/metrics/replay",
                 {"configurationSet": cs, "eventDestination": "nope"})[0] == 404
    assert local(server, "POST", "/_mailtally/metrics/replay", {"configurationSet": cs})[0] == 400
    assert local(server, "GET", "/_mailtally/metrics/replay")[0] == 405


def test_diagnostics_list_every_unpublished_datapoint_with_examples(server, ses, cloudwatch):
    cs = unique("diag")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "hdr", [("X-Campaign", "emailHeader", "none")])
    cw_destination(ses, cs, "link", [("product", "linkTag", "none")])
    spaced = raw_send(ses, cs, [("X-Campaign", "spring sale")])  # sent, but no metric
    accented = raw_send(ses, cs, [("X-Campaign", "caf\u00e9")])
    wait_total(cloudwatch, "DroppedDatapoints",
               {"ConfigurationSet": cs, "EventDestination": "hdr",
                "Reason": "bad_header_characters"}, 1, namespace="mailtally/Publishing")

    def entries():
        status, out = local(server, "GET", "/_mailtally/metrics/diagnostics?limit=3")
        assert status == 200
        return {(d["eventDestination"], d["reason"]): d for d in out["drops"]
                if d["configurationSet"] == cs}

    got = wait_until(lambda: len(entries()) == 3 and entries(), 10, what="three drop kinds")
    bad = got[("hdr", "bad_header_characters")]
    assert bad["count"] == 1
    assert bad["examples"][0]["messageId"] == spaced
    assert bad["examples"][0]["dimension"] == "X-Campaign"
    non_ascii = got[("hdr", "non_ascii")]
    assert non_ascii["count"] == 1 and non_ascii["examples"][0]["messageId"] == accented
    link = got[("link", "link_tag_on_non_click")]
    assert link["count"] == 2
    assert {e["messageId"] for e in link["examples"]} == {spaced, accented}
    assert all(e["dimension"] == "product" for e in link["examples"])
    assert total(cloudwatch, "Send", {"X-Campaign": "none"}) == 0
    assert local(server, "GET", "/_mailtally/metrics/diagnostics?limit=x")[0] == 400


def test_account_reputation_rates(fresh_server):
    ses, cloudwatch = fresh_server.client("ses"), fresh_server.client("cloudwatch")
    for _ in range(3):
        send(ses, None)
    send(ses, None, to="bounce@simulator.amazonses.com")
    wait_total(cloudwatch, "Bounce", {}, 1)
    wait_until(lambda: total(cloudwatch, "Reputation.BounceRate", {}, stat="Maximum") == 0.25,
               10, what="bounce rate 1/4")
    assert total(cloudwatch, "Reputation.ComplaintRate", {}, stat="Maximum") == 0
    names = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="AWS/SES")["Metrics"]
             if not m.get("Dimensions")}
    assert {"Reputation.BounceRate", "Reputation.ComplaintRate", "Send", "Bounce"} <= names
    send(ses, None, to="complaint@simulator.amazonses.com")
    wait_until(lambda: total(cloudwatch, "Reputation.ComplaintRate", {}, stat="Maximum") == 0.2,
               10, what="complaint rate 1/5")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_endpoint_scraped_by_a_real_prometheus(server, ses, cloudwatch, tmp_path):
    prometheus = shutil.which("prometheus")
    assert prometheus, "the Debian package prometheus is required (scripts/install-deps.sh --test)"
    cs = unique("prom")
    ses.create_configuration_set(ConfigurationSet={"Name": cs})
    cw_destination(ses, cs, "cw", [("ses:configuration-set", "messageTag", "x"),
                                   ("campaign", "messageTag", "none")])
    send(ses, cs, [("campaign", "promo")])
    send(ses, cs, [("campaign", "promo")])
    wait_total(cloudwatch, "Send", {"ses:configuration-set": cs, "campaign": "promo"}, 2)

    with urllib.request.urlopen(server.endpoint + "/metrics", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    assert "# TYPE AWS_SES_Send_total counter" in text
    assert f'AWS_SES_Send_total{{campaign="promo",ses_configuration_set="{cs}"}} 2' in text
    assert "ses_configuration_set=ses:configuration-set" in text  # the original name, in HELP
    assert "# TYPE mailtally_http_request_duration_seconds histogram" in text

    port = free_port()
    host = server.endpoint.split("//")[1]
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                      "scrape_configs:\n  - job_name: mailtally\n"
                      f"    static_configs:\n      - targets: ['{host}']\n")
    log = open(tmp_path / "prometheus.log", "wb")
    proc = subprocess.Popen([prometheus, f"--config.file={config}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        def query(q):
            url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    out = json.loads(r.read())
            except OSError:
                return None
            assert out["status"] == "success", out
            return out["data"]["result"]

        up = wait_until(lambda: query('up{job="mailtally"}'), 30, interval=0.5,
                        what="a first scrape")
        assert up[0]["value"][1] == "1", (tmp_path / "prometheus.log").read_text()
        ses_series = wait_until(
            lambda: query(f'AWS_SES_Send_total{{ses_configuration_set="{cs}"}}'), 15,
            interval=0.5, what="the SES series in Prometheus")
        assert ses_series[0]["metric"]["campaign"] == "promo"
        assert ses_series[0]["value"][1] == "2"
        sends = query('mailtally_http_requests_total{service="SES",operation="SendEmail"}')
        assert sends and float(sends[0]["value"][1]) >= 2
        latency = query('mailtally_http_request_duration_seconds_count{operation="SendEmail"}')
        assert latency and float(latency[0]["value"][1]) >= 2
        assert float(query("mailtally_events_dispatched_total")[0]["value"][1]) >= 4
        depth = query("mailtally_queue_depth")
        assert depth and float(depth[0]["value"][1]) >= 0
        # Both messages get delivered: the queue drains to zero.
        wait_until(lambda: (query("mailtally_queue_depth") or [{"value": [0, "x"]}])[0]
                   ["value"][1] == "0", 15, interval=0.5, what="an empty queue")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
