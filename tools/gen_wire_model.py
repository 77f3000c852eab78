#!/usr/bin/env python3
"""Generates C++ tables (wire/model.hpp types) from the botocore service models.

Usage: gen_wire_model.py MODELS_DIR OVERLAYS_JSON OUTPUT_CPP

MODELS_DIR is a botocore `data` folder (Debian's python3-botocore installs one under
/usr/lib/python3/dist-packages/botocore/data). OVERLAYS_JSON holds facts from newer models that
are deep-merged into the old ones before generation.
"""
import json
import os
import sys

SERVICES = [
    # (key, folder, api version, C++ accessor)
    ("ses", "ses", "2010-12-01", "ses_v1_model"),
    ("sesv2", "sesv2", "2019-09-27", "ses_v2_model"),
    ("cloudwatch", "cloudwatch", "2010-08-01", "cloudwatch_model"),
    ("sns", "sns", "2010-03-31", "sns_model"),
]

SHAPE_TYPES = {
    "structure": "Structure", "list": "List", "map": "Map", "string": "String",
    "integer": "Integer", "long": "Long", "boolean": "Boolean", "double": "Double",
    "float": "Float", "timestamp": "Timestamp", "blob": "Blob",
}
LOCATIONS = {
    None: "Body", "uri": "Uri", "querystring": "QueryString", "header": "Header",
    "headers": "Headers", "statusCode": "StatusCode",
}


def deep_merge(base, extra):
    for k, v in extra.items():
        if k.startswith("_"):
            continue
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = v
    return base


def cstr(s):
    if s is None:
        return "{}"
    return json.dumps(s)  # a JSON string literal is a valid C++ literal for our ASCII content


def num(x):
    return repr(float(x))


def load_model(models_dir, folder, version):
    path = os.path.join(models_dir, folder, version, "service-2.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def generate_service(key, model, accessor):
    meta = model["metadata"]
    shape_names = sorted(model["shapes"].keys())
    index = {n: i for i, n in enumerate(shape_names)}
    members, enums, shapes_out = [], [], []
    for name in shape_names:
        s = model["shapes"][name]
        t = s["type"]
        first_member, member_count = len(members), 0
        member_shape = key_shape = value_shape = "kNoShape"
        if t == "structure":
            required = set(s.get("required", []))
            for mname, m in s.get("members", {}).items():
                members.append(
                    "{%s, %s, %d, Location::%s, %s}" % (
                        cstr(mname), cstr(m.get("locationName", "")), index[m["shape"]],
                        LOCATIONS[m.get("location")], "true" if mname in required else "false"))
                member_count += 1
        elif t == "list":
            member_shape = str(index[s["member"]["shape"]])
        elif t == "map":
            key_shape = str(index[s["key"]["shape"]])
            value_shape = str(index[s["value"]["shape"]])
        first_enum, enum_count = len(enums), 0
        for e in s.get("enum", []):
            enums.append(cstr(e))
            enum_count += 1
        err = s.get("error")
        is_error = bool(s.get("exception")) or err is not None
        code = (err or {}).get("code", name) if is_error else ""
        status = (err or {}).get("httpStatusCode", 400 if is_error else 0)
        sender_fault = not s.get("fault", False) if is_error else False
        if err is not None and "senderFault" in err:
            sender_fault = bool(err["senderFault"])
        shapes_out.append(
            "{%s, ShapeType::%s, %d, %d, %s, %s, %s, %s, %s, %s, %s, %d, %d, %s, %s, %d, %s}" % (
                cstr(name), SHAPE_TYPES[t], first_member, member_count, member_shape, key_shape,
                value_shape, "true" if "min" in s else "false", "true" if "max" in s else "false",
                num(s.get("min", 0)), num(s.get("max", 0)), first_enum, enum_count,
                "true" if is_error else "false", cstr(code), status,
                "true" if sender_fault else "false"))
    ops, errors, routes = [], [], []
    for oname in sorted(model["operations"].keys()):
        op = model["operations"][oname]
        http = op.get("http", {})
        first_error = len(errors)
        for e in op.get("errors", []):
            errors.append(str(index[e["shape"]]))
        first_route = len(routes)
        for r in op.get("extraRoutes", []):
            routes.append("{%s, %s, %s}" % (cstr(r["method"]), cstr(r["requestUri"]),
                                              "true" if r.get("queryMembersInBody") else "false"))
        inp = op.get("input", {}).get("shape")
        out = op.get("output", {}).get("shape")
        ops.append("{%s, %s, %s, %d, %s, %s, %s, %d, %d, %d, %d}" % (
            cstr(oname), cstr(http.get("method", "POST")), cstr(http.get("requestUri", "/")),
            http.get("responseCode", 200), index[inp] if inp else "kNoShape",
            index[out] if out else "kNoShape", cstr(op.get("output", {}).get("resultWrapper", "")),
            first_error, len(errors) - first_error, first_route, len(routes) - first_route))

    def arr(ctype, name, items):
        if not items:
            return "const %s* const %s = nullptr;\nconstexpr std::size_t %s_size = 0;\n" % (
                ctype, name, name)
        body = ",\n    ".join(items)
        return "const %s %s[] = {\n    %s,\n};\nconstexpr std::size_t %s_size = std::size(%s);\n" % (
            ctype, name, body, name, name)

    ns = "m_" + key
    out = ["namespace %s {" % ns]
    out.append(arr("Shape", "kShapes", shapes_out))
    out.append(arr("Member", "kMembers", members))
    out.append(arr("std::string_view", "kEnums", enums))
    out.append(arr("Operation", "kOperations", ops))
    out.append(arr("std::uint16_t", "kErrors", errors))
    out.append(arr("ExtraRoute", "kRoutes", routes))
    out.append("}  // namespace %s" % ns)
    out.append("""
const Service& %(acc)s() {
  static const Service s{
      %(key)s, %(sid)s, %(proto)s, %(ver)s, %(sign)s, %(xmlns)s, %(target)s, %(qc)s,
      {%(ns)s::kShapes, %(ns)s::kShapes_size}, {%(ns)s::kMembers, %(ns)s::kMembers_size},
      {%(ns)s::kEnums, %(ns)s::kEnums_size}, {%(ns)s::kOperations, %(ns)s::kOperations_size},
      {%(ns)s::kErrors, %(ns)s::kErrors_size}, {%(ns)s::kRoutes, %(ns)s::kRoutes_size}};
  return s;
}
""" % {
        "acc": accessor, "key": cstr(key), "sid": cstr(meta.get("serviceId", "")),
        "proto": cstr(meta["protocol"]), "ver": cstr(meta["apiVersion"]),
        "sign": cstr(meta.get("signingName", meta.get("endpointPrefix"))),
        "xmlns": cstr(meta.get("xmlNamespace", "")), "target": cstr(meta.get("targetPrefix", "")),
        "qc": "true" if "awsQueryCompatible" in meta else "false", "ns": ns})
    return "\n".join(out)


def main():
    models_dir, overlays_path, output = sys.argv[1:4]
    with open(overlays_path, encoding="utf-8") as f:
        overlays = json.load(f)
    parts = [
        "// GENERATED by tools/gen_wire_model.py from the botocore models in %s." % models_dir,
        "// Do not edit.",
        "#include <iterator>",
        "#include \"wire/model.hpp\"",
        "namespace mailtally::wire {",
    ]
    for key, folder, version, accessor in SERVICES:
        model = load_model(models_dir, folder, version)
        deep_merge(model, overlays.get(key, {}))
        parts.append(generate_service(key, model, accessor))
    parts.append("}  // namespace mailtally::wire\n")
    text = "\n".join(parts)
    if os.path.exists(output):
        with open(output, encoding="utf-8") as f:
            if f.read() == text:
                return
    with open(output, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
