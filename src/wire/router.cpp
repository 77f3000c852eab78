#include <algorithm>
#include <mutex>

#include "wire/codec.hpp"

namespace mailtally::wire {
namespace {

// SES v2 lives under /v2/email/; one operation of its model (PutEmailIdentityDkimSigningAttributes)
// still uses /v1/email/.
constexpr std::string_view kRestPrefixes[] = {"/v2/", "/v1/email/"};

struct Segment {
  std::string_view text;  // literal text, or the label name
  bool label = false;
  bool greedy = false;
};

struct RestRoute {
  std::string_view method;
  std::vector<Segment> segments;
  int literals = 0;
  const Operation* op;
  const ExtraRoute* extra;
};

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 1;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

RestRoute make_rest_route(std::string_view method, std::string_view uri, const Operation* op,
                          const ExtraRoute* extra) {
  RestRoute r{method, {}, 0, op, extra};
  uri = uri.substr(0, uri.find('?'));
  for (auto seg : split_path(uri)) {
    Segment s{seg};
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      s.label = true;
      s.text = seg.substr(1, seg.size() - 2);
      if (!s.text.empty() && s.text.back() == '+') {
        s.greedy = true;
        s.text.remove_suffix(1);
      }
    } else {
      ++r.literals;
    }
    r.segments.push_back(s);
  }
  return r;
}

const std::vector<RestRoute>& rest_routes() {
  static const std::vector<RestRoute> routes = [] {
    std::vector<RestRoute> v;
    const Service& svc = ses_v2_model();
    for (const auto& op : svc.operations) {
      v.push_back(make_rest_route(op.method, op.request_uri, &op, nullptr));
      for (const auto& extra : svc.extra_routes_of(op)) {
        v.push_back(make_rest_route(extra.method, extra.request_uri, &op, &extra));
      }
    }
    // Most specific first: more literal segments win over labels.
    std::stable_sort(v.begin(), v.end(), [](const RestRoute& a, const RestRoute& b) {
      return a.literals > b.literals;
    });
    return v;
  }();
  return routes;
}

bool match(const RestRoute& r, const std::vector<std::string_view>& segs,
           std::vector<std::pair<std::string, std::string>>& labels) {
  labels.clear();
  std::size_t i = 0;
  for (std::size_t k = 0; k < r.segments.size(); ++k) {
    const Segment& s = r.segments[k];
    if (s.greedy) {
      if (i >= segs.size()) return false;
      std::string joined;
      for (std::size_t j = i; j < segs.size(); ++j) {
        if (j > i) joined += '/';
        joined += segs[j];
      }
      auto decoded = percent_decode(joined, false);
      if (!decoded || decoded->empty()) return false;
      labels.emplace_back(std::string(s.text), std::move(*decoded));
      return k + 1 == r.segments.size();
    }
    if (i >= segs.size()) return false;
    if (s.label) {
      auto decoded = percent_decode(segs[i], false);
      if (!decoded || decoded->empty()) return false;
      labels.emplace_back(std::string(s.text), std::move(*decoded));
    } else if (segs[i] != s.text) {
      return false;
    }
    ++i;
  }
  return i == segs.size();
}

RouteFailure failure(const Service* svc, Protocol p, ApiError e) {
  return RouteFailure{svc, p, std::move(e)};
}

base::Expected<Route, RouteFailure> route_json(const http::Request& req, std::string_view target) {
  auto dot = target.rfind('.');
  std::string_view prefix = dot == std::string_view::npos ? target : target.substr(0, dot);
  std::string_view op = dot == std::string_view::npos ? std::string_view{} : target.substr(dot + 1);
  for (const Service* svc : all_models()) {
    if (svc->target_prefix.empty() || svc->target_prefix != prefix) continue;
    Route r;
    r.service = svc;
    r.protocol = Protocol::Json;
    r.operation_name = std::string(op);
    r.operation = svc->find_operation(op);
    if (!r.operation) {
      return base::unexpected(failure(svc, Protocol::Json,
                                      generic_error(400, "UnknownOperationException",
                                                    "Unknown operation " + std::string(op) +
                                                        " for " + std::string(svc->service_id))));
    }
    (void)req;
    return r;
  }
  return base::unexpected(failure(&cloudwatch_model(), Protocol::Json,
                                  generic_error(400, "UnknownOperationException",
                                                "Unknown X-Amz-Target " + std::string(target))));
}

base::Expected<Route, RouteFailure> route_rest(const http::Request& req) {
  const Service& svc = ses_v2_model();
  auto segs = split_path(req.path());
  std::vector<std::pair<std::string, std::string>> labels;
  bool path_matched = false;
  for (const auto& r : rest_routes()) {
    if (!match(r, segs, labels)) continue;
    path_matched = true;
    if (r.method != req.method) continue;
    Route out;
    out.service = &svc;
    out.protocol = Protocol::RestJson;
    out.operation = r.op;
    out.operation_name = std::string(r.op->name);
    out.extra_route = r.extra;
    out.uri_labels = std::move(labels);
    return out;
  }
  if (path_matched) {
    return base::unexpected(failure(
        &svc, Protocol::RestJson,
        generic_error(405, "MethodNotAllowedException",
                      "Method " + req.method + " is not allowed on " + std::string(req.path()))));
  }
  return base::unexpected(failure(
      &svc, Protocol::RestJson,
      generic_error(404, "UnknownOperationException",
                    "No SES v2 operation matches " + req.method + " " + std::string(req.path()))));
}

base::Expected<Route, RouteFailure> route_query(const http::Request& req,
                                                std::string_view signing_service) {
  // Without a Version, the SigV4 scope's service picks the model (ses when unknown).
  const Service* fallback = &ses_v1_model();
  for (const Service* s : all_models()) {
    if (s->protocol == "query" && s->signing_name == signing_service) fallback = s;
  }
  Route r;
  r.protocol = Protocol::Query;
  auto url = FormParams::parse(req.query(), true);
  if (!url) {
    return base::unexpected(failure(
        fallback, Protocol::Query,
        generic_error(400, "MalformedQueryString", "The query string is not correctly encoded.")));
  }
  r.params = std::move(*url);
  if (req.method == "POST" && !req.body.empty()) {
    auto body = FormParams::parse(req.body, true);
    if (!body) {
      return base::unexpected(failure(fallback, Protocol::Query,
                                      generic_error(400, "MalformedQueryString",
                                                    "The request body is not correctly encoded.")));
    }
    r.params.merge(*body);
  }
  const std::string* action = r.params.find("Action");
  const std::string* version = r.params.find("Version");
  const Service* svc = nullptr;
  if (version) {
    for (const Service* s : all_models()) {
      if (s->protocol == "query" && s->api_version == *version) svc = s;
    }
    if (!svc) {
      return base::unexpected(
          failure(fallback, Protocol::Query,
                  generic_error(400, "InvalidParameterValue",
                                "Unsupported API version '" + *version +
                                    "': expected 2010-12-01 (SES), 2010-08-01 (CloudWatch) or "
                                    "2010-03-31 (SNS)")));
    }
  } else {
    svc = fallback;
  }
  r.service = svc;
  if (!action || action->empty()) {
    return base::unexpected(failure(
        svc, Protocol::Query, generic_error(400, "MissingAction", "The request has no Action.")));
  }
  r.operation_name = *action;
  r.operation = svc->find_operation(*action);
  if (!r.operation && !version && svc != &sns_model()) {
    // No Version: take the other of SES v1 / CloudWatch if it knows the action.
    const Service* other = svc == &ses_v1_model() ? &cloudwatch_model() : &ses_v1_model();
    if (const Operation* op = other->find_operation(*action)) {
      r.service = other;
      r.operation = op;
    }
  }
  if (!r.operation) {
    return base::unexpected(
        failure(svc, Protocol::Query,
                generic_error(400, "InvalidAction",
                              "The action " + *action + " is not valid for this web service.")));
  }
  return r;
}

}  // namespace

std::string_view protocol_name(Protocol p) {
  switch (p) {
    case Protocol::Query:
      return "query";
    case Protocol::RestJson:
      return "rest-json";
    case Protocol::Json:
      return "json";
  }
  return "?";
}

base::Expected<Route, RouteFailure> route(const http::Request& request,
                                          std::string_view signing_service) {
  if (const std::string* target = request.headers.find("X-Amz-Target")) {
    return route_json(request, *target);
  }
  std::string_view path = request.path();
  for (std::string_view prefix : kRestPrefixes) {
    if (path.substr(0, prefix.size()) == prefix) return route_rest(request);
  }
  if (path == "/" && (request.method == "POST" || request.method == "GET")) {
    return route_query(request, signing_service);
  }
  const Service* svc = &ses_v1_model();
  return base::unexpected(
      failure(svc, Protocol::Query,
              generic_error(404, "UnknownOperationException",
                            "No API operation at " + request.method + " " + std::string(path))));
}

}  // namespace mailtally::wire
