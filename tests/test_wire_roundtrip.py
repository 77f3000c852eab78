"""Wire round trips against botocore itself, for every operation of the three models.

For each operation a random but valid input is generated from the model, serialized by
botocore's own serializer, and decoded by mailtally's codec (through wire_roundtrip_tool): the
values must come back equal. Likewise a random output is encoded by mailtally and parsed by
botocore's parser: the values must come back equal. Inputs are seeded, so failures reproduce.
"""
import base64
import datetime
import json
import os
import random
import subprocess
import urllib.parse
import zlib

import botocore.parsers
import botocore.serialize
import botocore.session
import pytest

TOOL = os.environ.get(
    "MAILTALLY_WIRE_TOOL",
    os.path.join(os.path.dirname(os.environ.get("MAILTALLY_BIN", "build/src/app/mailtally")),
                 "..", "wire", "wire_roundtrip_tool"))

SERVICES = {"ses": "ses", "sesv2": "sesv2", "cloudwatch": "cloudwatch"}
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class Tool:
    def __init__(self):
        self.proc = subprocess.Popen([TOOL], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def call(self, message):
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def tool():
    if not os.path.exists(TOOL):
        pytest.fail(f"wire_roundtrip_tool not built at {TOOL}")
    t = Tool()
    yield t
    t.close()


class Generator:
    """Random values that satisfy a botocore shape (enums, lengths, ranges)."""

    ALPHABET = "abcXYZ019 _-.@/:+&<>=%\u00e9\u2713"

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def value(self, shape, depth=0, label=False):
        t = shape.type_name
        if t == "structure":
            out = {}
            for name, member in shape.members.items():
                required = name in shape.required_members
                if required or (depth < 4 and self.rng.random() < 0.7):
                    is_label = member.serialization.get("location") == "uri"
                    out[name] = self.value(member, depth + 1, label=is_label)
            if not out and shape.members:
                # An empty structure is the same as an absent one on the Query wire.
                name = self.rng.choice(sorted(shape.members))
                out[name] = self.value(shape.members[name], depth + 1)
            return out
        if t == "list":
            lo = shape.metadata.get("min", 0)
            n = max(lo, self.rng.randint(1, 3) if depth < 4 else lo)
            return [self.value(shape.member, depth + 1) for _ in range(n)]
        if t == "map":
            n = self.rng.randint(1, 2)
            return {self.string(shape.key, key=True): self.value(shape.value, depth + 1)
                    for _ in range(n)}
        if t == "string":
            return self.string(shape, label=label)
        if t in ("integer", "long"):
            lo = int(shape.metadata.get("min", 0))
            hi = int(shape.metadata.get("max", lo + 1000))
            return self.rng.randint(lo, min(hi, lo + 1000))
        if t == "boolean":
            return self.rng.random() < 0.5
        if t in ("double", "float"):
            lo = shape.metadata.get("min", 0.0)
            return round(lo + self.rng.random() * 1000, 3)
        if t == "timestamp":
            return datetime.datetime.fromtimestamp(
                self.rng.randint(1_500_000_000, 1_900_000_000), tz=datetime.timezone.utc)
        if t == "blob":
            return bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 40)))
        raise AssertionError(t)

    def string(self, shape, key=False, label=False):
        enum = shape.metadata.get("enum")
        if enum:
            return self.rng.choice(enum)
        lo = max(shape.metadata.get("min", 0), 1)
        hi = min(shape.metadata.get("max", 12), 12)
        n = self.rng.randint(lo, max(lo, hi))
        alphabet = "abcXYZ019_-" if (key or label) else self.ALPHABET
        return "".join(self.rng.choice(alphabet) for _ in range(n))


def normalize(shape, value):
    """Botocore values -> the tool's wire-JSON form (timestamps epoch, blobs base64)."""
    t = shape.type_name
    if t == "structure":
        return {k: normalize(shape.members[k], v) for k, v in value.items()}
    if t == "list":
        return [normalize(shape.member, v) for v in value]
    if t == "map":
        return {k: normalize(shape.value, v) for k, v in value.items()}
    if t == "timestamp":
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=datetime.timezone.utc)
            return (value - EPOCH).total_seconds()
        return float(value)
    if t == "blob":
        return base64.b64encode(value).decode()
    if t in ("double", "float"):
        return float(value)
    return value


def operations():
    session = botocore.session.get_session()
    for service in SERVICES:
        model = session.get_service_model(service)
        for name in model.operation_names:
            yield pytest.param(model, name, id=f"{service}.{name}")


def to_http(model, request):
    target = request["url_path"]
    query = request.get("query_string") or {}
    if query:
        # As botocore's AWSRequest prepares URLs: percent-encoding, spaces as %20.
        target += "?" + urllib.parse.urlencode(
            query, doseq=True, quote_via=lambda v, *a: urllib.parse.quote(v, safe="-_.~"))
    body = request["body"]
    if isinstance(body, dict):  # query protocol: botocore leaves the form as a dict
        body = urllib.parse.urlencode(body)
    if isinstance(body, str):
        body = body.encode()
    headers = {k: v for k, v in request["headers"].items()}
    return {"method": request["method"], "target": target, "headers": headers,
            "body_b64": base64.b64encode(body or b"").decode(),
            "scope": model.signing_name}


@pytest.mark.parametrize("model,name", list(operations()))
def test_requests_serialized_by_botocore_decode_to_the_same_values(tool, model, name):
    op = model.operation_model(name)
    if op.input_shape is None:
        return
    protocol = model.metadata["protocol"]
    serializer = botocore.serialize.create_serializer(protocol, include_validation=False)
    for seed in range(3):
        params = Generator(zlib.crc32(f"{name}/{seed}".encode())).value(op.input_shape)
        request = serializer.serialize_to_request(params, op)
        answer = tool.call({"decode": to_http(model, request)})
        assert "input" in answer, (params, answer)
        assert answer["operation"] == name
        assert answer["input"] == normalize(op.input_shape, params)


def test_cloudwatch_json_protocol_decodes_like_query(tool):
    """Newer botocore sends CloudWatch as JSON 1.0 with X-Amz-Target; same values."""
    session = botocore.session.get_session()
    model = session.get_service_model("cloudwatch")
    op = model.operation_model("GetMetricStatistics")
    params = Generator(7).value(op.input_shape)
    body = json.dumps(normalize(op.input_shape, params)).encode()
    answer = tool.call({"decode": {
        "method": "POST", "target": "/",
        "headers": {"X-Amz-Target": "GraniteServiceVersion20100801.GetMetricStatistics",
                    "Content-Type": "application/x-amz-json-1.0", "x-amzn-query-mode": "true"},
        "body_b64": base64.b64encode(body).decode(), "scope": "monitoring"}})
    assert answer["protocol"] == "json"
    assert answer["input"] == normalize(op.input_shape, params)


def strip_metadata(parsed):
    parsed.pop("ResponseMetadata", None)
    return parsed


@pytest.mark.parametrize("model,name", list(operations()))
def test_responses_parse_in_botocore_to_the_same_values(tool, model, name):
    op = model.operation_model(name)
    if op.output_shape is None:
        return
    protocol = model.metadata["protocol"]
    protocols = [protocol] + (["json"] if model.service_name == "cloudwatch" else [])
    for proto in protocols:
        params = Generator(zlib.crc32(f"{name}/out".encode())).value(op.output_shape)
        expected = normalize(op.output_shape, params)
        answer = tool.call({"encode": {"service": model.service_name, "operation": name,
                                       "protocol": proto, "output": expected}})
        assert "body" in answer, answer
        parser = botocore.parsers.create_parser(proto)
        parsed = parser.parse({"status_code": answer["status"],
                               "headers": answer["headers"],
                               "body": answer["body"].encode()}, op.output_shape)
        got = normalize(op.output_shape, strip_metadata(parsed))
        assert got == expected
