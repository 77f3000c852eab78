// Request decoding for the three protocols, then model validation.
#include <boost/json/parse.hpp>
#include <charconv>
#include <cmath>
#include <set>

#include "base/crypto.hpp"
#include "base/time_format.hpp"
#include "wire/codec.hpp"

namespace mailtally::wire {
namespace json = boost::json;
namespace {

constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxListItems = 100000;

using Result = base::Expected<json::value, DecodeError>;

DecodeError malformed(std::string path, std::string what) {
  return DecodeError{
      DecodeError::Kind::Malformed, path,
      "1 validation error detected: Value at '" + path + "' failed to satisfy constraint: " + what};
}

std::string join(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  std::string s(a);
  s += '.';
  s += b;
  return s;
}

bool is_scalar(ShapeType t) {
  return t != ShapeType::Structure && t != ShapeType::List && t != ShapeType::Map;
}

// A scalar from its text form (Query parameters, URI labels, query strings, headers).
Result scalar_from_text(const Shape& shape, std::string_view text, std::string_view path_view) {
  const std::string path(path_view);
  switch (shape.type) {
    case ShapeType::String:
      return json::value(json::string(text));
    case ShapeType::Integer:
    case ShapeType::Long: {
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) {
        return base::unexpected(
            malformed(path, "Member must be an integer, got '" + std::string(text) + "'"));
      }
      return json::value(v);
    }
    case ShapeType::Boolean:
      if (text == "true") return json::value(true);
      if (text == "false") return json::value(false);
      return base::unexpected(
          malformed(path, "Member must be true or false, got '" + std::string(text) + "'"));
    case ShapeType::Double:
    case ShapeType::Float: {
      std::string s(text);
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) {
        return base::unexpected(
            malformed(path, "Member must be a number, got '" + std::string(text) + "'"));
      }
      return json::value(v);
    }
    case ShapeType::Timestamp: {
      if (auto t = base::parse_iso8601(text)) return json::value(*t);
      std::string s(text);
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size()) return json::value(v);
      return base::unexpected(
          malformed(path, "Member must be a timestamp, got '" + std::string(text) + "'"));
    }
    case ShapeType::Blob: {
      auto bytes = base::base64_decode(text);
      if (!bytes) return base::unexpected(malformed(path, "Member must be base64-encoded"));
      return json::value(json::string(*bytes));
    }
    default:
      return base::unexpected(malformed(path, "unexpected aggregate"));
  }
}

// ---- Query protocol -------------------------------------------------------------------------

class QueryDecoder {
 public:
  QueryDecoder(const Service& svc, const FormParams& params) : svc_(svc), params_(params) {}

  // Returns null when nothing below `key` is present.
  Result decode(std::uint16_t shape_index, const std::string& key, int depth) {
    if (depth > kMaxDepth) return base::unexpected(malformed(key, "nesting too deep"));
    const Shape& shape = svc_.shape(shape_index);
    if (is_scalar(shape.type)) {
      const std::string* v = params_.find(key);
      if (!v) return json::value(nullptr);
      return scalar_from_text(shape, *v, key);
    }
    switch (shape.type) {
      case ShapeType::Structure: {
        if (!key.empty() && !params_.has_prefix(key + ".")) return json::value(nullptr);
        json::object obj;
        for (const Member& m : svc_.members_of(shape)) {
          auto v = decode(m.shape, join(key, m.wire_name()), depth + 1);
          if (!v) return v;
          if (!v->is_null()) obj[m.name] = std::move(*v);
        }
        return json::value(std::move(obj));
      }
      case ShapeType::List: {
        std::string prefix = key + ".member.";
        auto indices = indices_below(prefix);
        if (!indices) return base::unexpected(malformed(key, "bad list index"));
        if (indices->empty()) {
          // botocore sends "Name=" for an empty list.
          const std::string* v = params_.find(key);
          if (v && v->empty()) return json::value(json::array());
          return json::value(nullptr);
        }
        json::array arr;
        for (auto i : *indices) {
          auto v = decode(shape.member_shape, prefix + std::to_string(i), depth + 1);
          if (!v) return v;
          arr.push_back(std::move(*v));
        }
        return json::value(std::move(arr));
      }
      case ShapeType::Map: {
        std::string prefix = key + ".entry.";
        auto indices = indices_below(prefix);
        if (!indices) return base::unexpected(malformed(key, "bad map index"));
        if (indices->empty()) return json::value(nullptr);
        json::object obj;
        for (auto i : *indices) {
          std::string base = prefix + std::to_string(i);
          const std::string* k = params_.find(base + ".key");
          if (!k) return base::unexpected(malformed(base + ".key", "Member must not be null"));
          auto v = decode(shape.value_shape, base + ".value", depth + 1);
          if (!v) return v;
          obj[*k] = std::move(*v);
        }
        return json::value(std::move(obj));
      }
      default:
        return json::value(nullptr);
    }
  }

 private:
  // Sorted distinct N of every "prefix N[.rest]" key; nullopt on a non-numeric N.
  std::optional<std::vector<std::uint32_t>> indices_below(const std::string& prefix) {
    auto [first, last] = params_.prefix_range(prefix);
    std::set<std::uint32_t> seen;
    for (auto i = first; i < last; ++i) {
      std::string_view rest = std::string_view(params_.items()[i].first).substr(prefix.size());
      rest = rest.substr(0, rest.find('.'));
      std::uint32_t n = 0;
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
      if (ec != std::errc() || p != rest.data() + rest.size() || n == 0) return std::nullopt;
      seen.insert(n);
      if (seen.size() > kMaxListItems) return std::nullopt;
    }
    return std::vector<std::uint32_t>(seen.begin(), seen.end());
  }

  const Service& svc_;
  const FormParams& params_;
};

// ---- JSON bodies ----------------------------------------------------------------------------

// `by_member_name`: every structure member is read under its member name, whatever its HTTP
// binding (the document form of to_wire_json(..., body_only = false)).
Result from_json(const Service& svc, std::uint16_t shape_index, const json::value& v,
                 std::string_view path_view, int depth, bool by_member_name = false) {
  const std::string path(path_view);
  if (depth > kMaxDepth) return base::unexpected(malformed(path, "nesting too deep"));
  if (v.is_null()) return json::value(nullptr);
  const Shape& shape = svc.shape(shape_index);
  auto wrong = [&](const char* what) {
    return base::unexpected(malformed(path.empty() ? std::string("body") : path,
                                      std::string("Member must be ") + what));
  };
  switch (shape.type) {
    case ShapeType::Structure: {
      if (!v.is_object()) return wrong("an object");
      json::object out;
      const auto& in = v.get_object();
      for (const Member& m : svc.members_of(shape)) {
        if (!by_member_name && m.location != Location::Body) continue;
        auto it = in.find(by_member_name ? m.name : m.wire_name());
        if (it == in.end()) continue;
        auto r =
            from_json(svc, m.shape, it->value(), join(path, m.name), depth + 1, by_member_name);
        if (!r) return r;
        if (!r->is_null()) out[m.name] = std::move(*r);
      }
      return json::value(std::move(out));
    }
    case ShapeType::List: {
      if (!v.is_array()) return wrong("a list");
      json::array out;
      std::size_t i = 0;
      for (const auto& item : v.get_array()) {
        ++i;
        auto r = from_json(svc, shape.member_shape, item, join(path, std::to_string(i)), depth + 1,
                           by_member_name);
        if (!r) return r;
        out.push_back(std::move(*r));
      }
      return json::value(std::move(out));
    }
    case ShapeType::Map: {
      if (!v.is_object()) return wrong("a map");
      json::object out;
      for (const auto& kv : v.get_object()) {
        auto r = from_json(svc, shape.value_shape, kv.value(), join(path, kv.key()), depth + 1,
                           by_member_name);
        if (!r) return r;
        out[kv.key()] = std::move(*r);
      }
      return json::value(std::move(out));
    }
    case ShapeType::String:
      if (!v.is_string()) return wrong("a string");
      return v;
    case ShapeType::Integer:
    case ShapeType::Long:
      if (v.is_int64()) return v;
      if (v.is_uint64() && v.get_uint64() <= INT64_MAX) {
        return json::value(static_cast<std::int64_t>(v.get_uint64()));
      }
      if (v.is_double() && std::trunc(v.get_double()) == v.get_double() &&
          std::fabs(v.get_double()) < 9.2e18) {
        return json::value(static_cast<std::int64_t>(v.get_double()));
      }
      return wrong("an integer");
    case ShapeType::Boolean:
      if (!v.is_bool()) return wrong("a boolean");
      return v;
    case ShapeType::Double:
    case ShapeType::Float:
      if (v.is_number()) return json::value(v.to_number<double>());
      if (v.is_string()) {
        // JSON protocols send NaN and Infinity as strings.
        const auto& s = v.get_string();
        if (s == "NaN") return json::value(std::nan(""));
        if (s == "Infinity") return json::value(HUGE_VAL);
        if (s == "-Infinity") return json::value(-HUGE_VAL);
      }
      return wrong("a number");
    case ShapeType::Timestamp:
      if (v.is_number()) return json::value(v.to_number<double>());
      if (v.is_string()) return scalar_from_text(shape, v.get_string(), path);
      return wrong("a timestamp");
    case ShapeType::Blob:
      if (!v.is_string()) return wrong("a base64 string");
      return scalar_from_text(shape, v.get_string(), path);
  }
  return json::value(nullptr);
}

base::Expected<json::value, DecodeError> parse_body(const std::string& body) {
  if (body.empty()) return json::value(json::object());
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) {
    return base::unexpected(DecodeError{DecodeError::Kind::Malformed, "body",
                                        "The request body is not valid JSON: " + ec.message()});
  }
  return v;
}

// ---- Validation -----------------------------------------------------------------------------

std::string fmt_num(double d) {
  if (std::trunc(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  return std::to_string(d);
}

std::optional<DecodeError> invalid(std::string path, std::string value, std::string constraint) {
  return DecodeError{DecodeError::Kind::Invalid, path,
                     "1 validation error detected: Value " + value + " at '" + path +
                         "' failed to satisfy constraint: " + constraint};
}

// True when `v` has the JSON kind a decoded value of `shape` must have.
bool kind_fits(const Shape& shape, const json::value& v) {
  switch (shape.type) {
    case ShapeType::Structure:
    case ShapeType::Map:
      return v.is_object();
    case ShapeType::List:
      return v.is_array();
    case ShapeType::String:
    case ShapeType::Blob:
      return v.is_string();
    case ShapeType::Boolean:
      return v.is_bool();
    default:
      return v.is_number();
  }
}

std::optional<DecodeError> validate(const Service& svc, std::uint16_t shape_index,
                                    const json::value& v, const std::string& path) {
  const Shape& shape = svc.shape(shape_index);
  if (v.is_null()) {
    // e.g. a Query list element with no members ("X.member.1=" for a list of structures)
    return DecodeError{DecodeError::Kind::Missing, path,
                       "1 validation error detected: Value null at '" + path +
                           "' failed to satisfy constraint: Member must not be null"};
  }
  if (!kind_fits(shape, v)) {
    return DecodeError{DecodeError::Kind::Malformed, path,
                       "1 validation error detected: Value at '" + path +
                           "' failed to satisfy constraint: Member has the wrong type"};
  }
  auto check_length = [&](std::size_t n, const std::string& shown) -> std::optional<DecodeError> {
    if (shape.has_min && static_cast<double>(n) < shape.min) {
      return invalid(path, shown,
                     "Member must have length greater than or equal to " + fmt_num(shape.min));
    }
    if (shape.has_max && static_cast<double>(n) > shape.max) {
      return invalid(path, shown,
                     "Member must have length less than or equal to " + fmt_num(shape.max));
    }
    return std::nullopt;
  };
  switch (shape.type) {
    case ShapeType::Structure: {
      const auto& obj = v.get_object();
      for (const Member& m : svc.members_of(shape)) {
        auto it = obj.find(m.name);
        std::string p = join(path, m.name);
        if (it == obj.end()) {
          if (m.required) {
            return DecodeError{DecodeError::Kind::Missing, p,
                               "1 validation error detected: Value null at '" + p +
                                   "' failed to satisfy constraint: Member must not be null"};
          }
          continue;
        }
        if (auto e = validate(svc, m.shape, it->value(), p)) return e;
      }
      return std::nullopt;
    }
    case ShapeType::List: {
      const auto& arr = v.get_array();
      if (auto e = check_length(arr.size(), "'[" + std::to_string(arr.size()) + " items]'")) {
        return e;
      }
      std::size_t i = 0;
      for (const auto& item : arr) {
        if (auto e = validate(svc, shape.member_shape, item, join(path, std::to_string(++i)))) {
          return e;
        }
      }
      return std::nullopt;
    }
    case ShapeType::Map: {
      const auto& obj = v.get_object();
      if (auto e = check_length(obj.size(), "'{" + std::to_string(obj.size()) + " entries}'")) {
        return e;
      }
      for (const auto& kv : obj) {
        if (auto e = validate(svc, shape.key_shape, json::value(kv.key()), join(path, kv.key()))) {
          return e;
        }
        if (auto e = validate(svc, shape.value_shape, kv.value(), join(path, kv.key()))) return e;
      }
      return std::nullopt;
    }
    case ShapeType::String: {
      std::string_view s = v.get_string();
      std::string shown = "'" + std::string(s.substr(0, 256)) + "'";
      if (shape.enum_count > 0) {
        auto values = svc.enum_of(shape);
        bool ok = false;
        for (auto e : values) ok = ok || e == s;
        if (!ok) {
          std::string set;
          for (auto e : values) set += (set.empty() ? "" : ", ") + std::string(e);
          return invalid(path, shown, "Member must satisfy enum value set: [" + set + "]");
        }
      }
      // Lengths count characters; UTF-8 continuation bytes are not counted.
      std::size_t chars = 0;
      for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
      return check_length(chars, shown);
    }
    case ShapeType::Blob:
      return check_length(v.get_string().size(), "'<blob>'");
    case ShapeType::Integer:
    case ShapeType::Long:
    case ShapeType::Double:
    case ShapeType::Float: {
      double d = v.to_number<double>();
      std::string shown = "'" + fmt_num(d) + "'";
      if (shape.has_min && d < shape.min) {
        return invalid(path, shown,
                       "Member must have value greater than or equal to " + fmt_num(shape.min));
      }
      if (shape.has_max && d > shape.max) {
        return invalid(path, shown,
                       "Member must have value less than or equal to " + fmt_num(shape.max));
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

// Fills the non-body members of a REST input (URI labels, query string, headers).
std::optional<DecodeError> decode_rest_bindings(const Service& svc, const Shape& input,
                                                const Route& route, const http::Request& req,
                                                const json::value& body, json::object& out) {
  auto query = FormParams::parse(req.query(), false);
  if (!query) return malformed("querystring", "bad percent-encoding");
  for (const Member& m : svc.members_of(input)) {
    const Shape& ms = svc.shape(m.shape);
    switch (m.location) {
      case Location::Uri: {
        for (const auto& [k, v] : route.uri_labels) {
          if (k == m.wire_name()) {
            auto r = scalar_from_text(ms, v, m.name);
            if (!r) return r.error();
            out[m.name] = std::move(*r);
          }
        }
        break;
      }
      case Location::QueryString: {
        if (route.extra_route && route.extra_route->query_members_in_body) {
          // Newer routes carry these members in the JSON body under the member name.
          if (body.is_object()) {
            if (auto* v = body.get_object().if_contains(m.name)) {
              auto r = from_json(svc, m.shape, *v, m.name, 1);
              if (!r) return r.error();
              if (!r->is_null()) out[m.name] = std::move(*r);
            }
          }
          break;
        }
        if (ms.type == ShapeType::List) {
          auto [a, b] = query->prefix_range(m.wire_name());
          json::array arr;
          for (auto i = a; i < b; ++i) {
            if (query->items()[i].first != m.wire_name()) continue;
            auto r = scalar_from_text(svc.shape(ms.member_shape), query->items()[i].second, m.name);
            if (!r) return r.error();
            arr.push_back(std::move(*r));
          }
          if (!arr.empty()) out[m.name] = std::move(arr);
        } else if (is_scalar(ms.type)) {
          if (const std::string* v = query->find(m.wire_name())) {
            auto r = scalar_from_text(ms, *v, m.name);
            if (!r) return r.error();
            out[m.name] = std::move(*r);
          }
        }
        break;
      }
      case Location::Header: {
        if (const std::string* v = req.headers.find(m.wire_name())) {
          auto r = scalar_from_text(ms, *v, m.name);
          if (!r) return r.error();
          out[m.name] = std::move(*r);
        }
        break;
      }
      default:
        break;
    }
  }
  return std::nullopt;
}

}  // namespace

base::Expected<json::value, DecodeError> from_wire_json(const Service& service, std::uint16_t shape,
                                                        const json::value& value) {
  return from_json(service, shape, value, "", 0);
}

base::Expected<json::object, DecodeError> decode_document(const Service& service,
                                                          const Operation& operation,
                                                          const json::value& document) {
  if (operation.input == kNoShape) return json::object();
  auto r = from_json(service, operation.input, document, "", 0, /*by_member_name=*/true);
  if (!r) return base::unexpected(std::move(r).error());
  json::value doc = r->is_null() ? json::value(json::object()) : std::move(*r);
  if (auto e = validate(service, operation.input, doc, "")) return base::unexpected(std::move(*e));
  return std::move(doc.get_object());
}

base::Expected<json::object, DecodeError> decode_input(const Route& route,
                                                       const http::Request& request) {
  const Service& svc = *route.service;
  const Operation& op = *route.operation;
  if (op.input == kNoShape) return json::object();
  json::value doc;
  switch (route.protocol) {
    case Protocol::Query: {
      QueryDecoder dec(svc, route.params);
      auto r = dec.decode(op.input, "", 0);
      if (!r) return base::unexpected(std::move(r).error());
      doc = r->is_null() ? json::value(json::object()) : std::move(*r);
      break;
    }
    case Protocol::Json: {
      auto body = parse_body(request.body);
      if (!body) return base::unexpected(std::move(body).error());
      auto r = from_json(svc, op.input, *body, "", 0);
      if (!r) return base::unexpected(std::move(r).error());
      doc = r->is_null() ? json::value(json::object()) : std::move(*r);
      break;
    }
    case Protocol::RestJson: {
      auto body = parse_body(request.body);
      if (!body) return base::unexpected(std::move(body).error());
      auto r = from_json(svc, op.input, *body, "", 0);
      if (!r) return base::unexpected(std::move(r).error());
      doc = r->is_null() ? json::value(json::object()) : std::move(*r);
      if (auto e = decode_rest_bindings(svc, svc.shape(op.input), route, request, *body,
                                        doc.get_object())) {
        return base::unexpected(std::move(*e));
      }
      break;
    }
  }
  if (auto e = validate(svc, op.input, doc, "")) return base::unexpected(std::move(*e));
  return std::move(doc.get_object());
}

}  // namespace mailtally::wire
