// SES v2 (REST-JSON, 2019-09-27): configuration sets with their options, event destinations,
// email identities and the account.
#include "services/doc.hpp"
#include "services/errors.hpp"
#include "services/providers.hpp"
#include "services/translate.hpp"

namespace mailtally::services {
namespace json = boost::json;
namespace {

using domain::ControlPlane;

base::Unexpected<wire::ApiError> v2_fail(const domain::Error& e) {
  return base::unexpected(ses_v2_error(e));
}

// Applies the option members of a CreateConfigurationSet request (or a Put*Options request).
void read_options(const json::object& in, domain::ConfigurationSet& s) {
  if (const auto* t = doc::obj(in, "TrackingOptions")) {
    s.custom_redirect_domain = doc::opt_str(*t, "CustomRedirectDomain");
  }
  if (const auto* d = doc::obj(in, "DeliveryOptions")) {
    s.tls_policy = doc::str(*d, "TlsPolicy") == "REQUIRE" ? domain::TlsPolicy::Require
                                                          : domain::TlsPolicy::Optional;
    s.sending_pool_name = doc::opt_str(*d, "SendingPoolName");
  }
  if (const auto* r = doc::obj(in, "ReputationOptions")) {
    s.reputation_metrics_enabled = doc::boolean(*r, "ReputationMetricsEnabled", false);
    s.last_fresh_start = doc::opt_number(*r, "LastFreshStart");
  }
  if (const auto* so = doc::obj(in, "SendingOptions")) {
    s.sending_enabled = doc::boolean(*so, "SendingEnabled", true);
  }
  if (const auto* sup = doc::obj(in, "SuppressionOptions")) {
    std::vector<std::string> reasons;
    if (const auto* list = doc::arr(*sup, "SuppressedReasons")) {
      for (const auto& r : *list) {
        if (r.is_string()) reasons.emplace_back(r.get_string());
      }
    }
    s.suppressed_reasons = std::move(reasons);
  }
  if (const auto* vdm = doc::obj(in, "VdmOptions")) {
    if (const auto* dash = doc::obj(*vdm, "DashboardOptions")) {
      s.vdm_engagement_metrics = doc::opt_str(*dash, "EngagementMetrics");
    }
    if (const auto* g = doc::obj(*vdm, "GuardianOptions")) {
      s.vdm_optimized_shared_delivery = doc::opt_str(*g, "OptimizedSharedDelivery");
    }
  }
}

std::vector<domain::ResourceTag> read_tags(const json::object& in) {
  std::vector<domain::ResourceTag> tags;
  if (const auto* list = doc::arr(in, "Tags")) {
    for (const auto& t : *list) {
      if (t.is_object()) {
        tags.push_back({doc::str(t.get_object(), "Key"), doc::str(t.get_object(), "Value")});
      }
    }
  }
  return tags;
}

json::array write_tags(const std::vector<domain::ResourceTag>& tags) {
  json::array out;
  for (const auto& t : tags) out.push_back(json::object{{"Key", t.key}, {"Value", t.value}});
  return out;
}

json::object describe(const domain::ConfigurationSet& s) {
  json::object out;
  out["ConfigurationSetName"] = s.name;
  if (s.custom_redirect_domain) {
    out["TrackingOptions"] = json::object{{"CustomRedirectDomain", *s.custom_redirect_domain}};
  }
  json::object delivery{
      {"TlsPolicy", s.tls_policy == domain::TlsPolicy::Require ? "REQUIRE" : "OPTIONAL"}};
  if (s.sending_pool_name) delivery["SendingPoolName"] = *s.sending_pool_name;
  out["DeliveryOptions"] = std::move(delivery);
  json::object rep{{"ReputationMetricsEnabled", s.reputation_metrics_enabled}};
  if (s.last_fresh_start) rep["LastFreshStart"] = *s.last_fresh_start;
  out["ReputationOptions"] = std::move(rep);
  out["SendingOptions"] = json::object{{"SendingEnabled", s.sending_enabled}};
  out["Tags"] = write_tags(s.tags);
  if (s.suppressed_reasons) {
    json::array reasons;
    for (const auto& r : *s.suppressed_reasons) reasons.emplace_back(r);
    out["SuppressionOptions"] = json::object{{"SuppressedReasons", std::move(reasons)}};
  }
  if (s.vdm_engagement_metrics || s.vdm_optimized_shared_delivery) {
    json::object vdm;
    if (s.vdm_engagement_metrics) {
      vdm["DashboardOptions"] = json::object{{"EngagementMetrics", *s.vdm_engagement_metrics}};
    }
    if (s.vdm_optimized_shared_delivery) {
      vdm["GuardianOptions"] =
          json::object{{"OptimizedSharedDelivery", *s.vdm_optimized_shared_delivery}};
    }
    out["VdmOptions"] = std::move(vdm);
  }
  return out;
}

std::string_view identity_type_name(domain::IdentityType t) {
  return t == domain::IdentityType::Domain ? "DOMAIN" : "EMAIL_ADDRESS";
}

std::string_view verification_name(domain::VerificationStatus s) {
  switch (s) {
    case domain::VerificationStatus::Pending:
      return "PENDING";
    case domain::VerificationStatus::Success:
      return "SUCCESS";
    case domain::VerificationStatus::Failed:
      return "FAILED";
    case domain::VerificationStatus::TemporaryFailure:
      return "TEMPORARY_FAILURE";
    case domain::VerificationStatus::NotStarted:
      return "NOT_STARTED";
  }
  return "PENDING";
}

// mailtally does not DKIM-sign yet, so signing is reported as not started.
json::object dkim_attributes() {
  return json::object{{"SigningEnabled", false},
                      {"Status", "NOT_STARTED"},
                      {"Tokens", json::array()},
                      {"SigningAttributesOrigin", "AWS_SES"}};
}

std::size_t page_size(const json::object& in) {
  return static_cast<std::size_t>(doc::opt_int(in, "PageSize").value_or(1000));
}

}  // namespace

void register_ses_v2(OperationTable& t, ControlPlane& cp) {
  const wire::Service& m = wire::ses_v2_model();

  t.add(m, "CreateConfigurationSet", [&cp](const CallContext&, const json::object& in) -> Output {
    domain::ConfigurationSet set;
    set.name = doc::str(in, "ConfigurationSetName");
    read_options(in, set);
    set.tags = read_tags(in);
    if (auto s = cp.create_configuration_set(std::move(set)); !s) return v2_fail(s.error());
    return json::object();
  });

  t.add(m, "GetConfigurationSet", [&cp](const CallContext&, const json::object& in) -> Output {
    auto rec = cp.get_configuration_set(doc::str(in, "ConfigurationSetName"));
    if (!rec) return v2_fail(rec.error());
    return describe(rec->set);
  });

  t.add(m, "DeleteConfigurationSet", [&cp](const CallContext&, const json::object& in) -> Output {
    if (auto s = cp.delete_configuration_set(doc::str(in, "ConfigurationSetName")); !s) {
      return v2_fail(s.error());
    }
    return json::object();
  });

  t.add(m, "ListConfigurationSets", [&cp](const CallContext&, const json::object& in) -> Output {
    auto page = cp.list_configuration_sets(doc::opt_str(in, "NextToken"), page_size(in));
    if (!page) return v2_fail(page.error());
    json::array names;
    for (const auto& n : page->items) names.emplace_back(n);
    json::object out{{"ConfigurationSets", std::move(names)}};
    if (page->next_token) out["NextToken"] = *page->next_token;
    return out;
  });

  // Put<X>Options: each replaces one option group of an existing set.
  struct OptionsOp {
    const char* operation;
    const char* member;  // the request member holding the group ("" when flat)
  };
  static constexpr OptionsOp kOptionOps[] = {
      {"PutConfigurationSetTrackingOptions", "TrackingOptions"},
      {"PutConfigurationSetDeliveryOptions", "DeliveryOptions"},
      {"PutConfigurationSetReputationOptions", "ReputationOptions"},
      {"PutConfigurationSetSendingOptions", "SendingOptions"},
      {"PutConfigurationSetSuppressionOptions", "SuppressionOptions"},
      {"PutConfigurationSetVdmOptions", ""},  // already nested
  };
  for (const auto& op : kOptionOps) {
    if (!m.find_operation(op.operation)) continue;
    std::string member = op.member;
    t.add(m, op.operation, [&cp, member](const CallContext&, const json::object& in) -> Output {
      // These requests carry the group's members at top level; wrap them so read_options
      // sees the same shape as CreateConfigurationSet.
      json::object wrapped = member.empty() ? in : json::object{{member, in}};
      auto s = cp.update_configuration_set_options(doc::str(in, "ConfigurationSetName"),
                                                   [&](domain::ConfigurationSet& set) {
                                                     if (member == "TrackingOptions")
                                                       set.custom_redirect_domain.reset();
                                                     read_options(wrapped, set);
                                                     return domain::Status(base::Ok{});
                                                   });
      if (!s) return v2_fail(s.error());
      return json::object();
    });
  }

  t.add(m, "CreateConfigurationSetEventDestination",
        [&cp](const CallContext&, const json::object& in) -> Output {
          auto d = destination_from(SesVersion::V2, *doc::obj(in, "EventDestination"),
                                    doc::str(in, "EventDestinationName"));
          if (auto s =
                  cp.create_event_destination(doc::str(in, "ConfigurationSetName"), std::move(d));
              !s) {
            return v2_fail(s.error());
          }
          return json::object();
        });

  t.add(m, "UpdateConfigurationSetEventDestination",
        [&cp](const CallContext&, const json::object& in) -> Output {
          auto d = destination_from(SesVersion::V2, *doc::obj(in, "EventDestination"),
                                    doc::str(in, "EventDestinationName"));
          if (auto s =
                  cp.update_event_destination(doc::str(in, "ConfigurationSetName"), std::move(d));
              !s) {
            return v2_fail(s.error());
          }
          return json::object();
        });

  t.add(m, "DeleteConfigurationSetEventDestination",
        [&cp](const CallContext&, const json::object& in) -> Output {
          if (auto s = cp.delete_event_destination(doc::str(in, "ConfigurationSetName"),
                                                   doc::str(in, "EventDestinationName"));
              !s) {
            return v2_fail(s.error());
          }
          return json::object();
        });

  t.add(m, "GetConfigurationSetEventDestinations",
        [&cp](const CallContext&, const json::object& in) -> Output {
          auto dests = cp.get_event_destinations(doc::str(in, "ConfigurationSetName"));
          if (!dests) return v2_fail(dests.error());
          json::array out;
          for (const auto& d : *dests) out.push_back(destination_to(SesVersion::V2, d));
          return json::object{{"EventDestinations", std::move(out)}};
        });

  t.add(m, "CreateEmailIdentity", [&cp](const CallContext&, const json::object& in) -> Output {
    std::string name = doc::str(in, "EmailIdentity");
    auto type = domain::identity_type_of(name);
    auto id = cp.create_identity(name, type, true, doc::opt_str(in, "ConfigurationSetName"),
                                 read_tags(in));
    if (!id) return v2_fail(id.error());
    return json::object{
        {"IdentityType", identity_type_name(id->type)},
        {"VerifiedForSendingStatus", id->status == domain::VerificationStatus::Success},
        {"DkimAttributes", dkim_attributes()}};
  });

  t.add(m, "GetEmailIdentity", [&cp](const CallContext&, const json::object& in) -> Output {
    auto id = cp.get_identity(doc::str(in, "EmailIdentity"));
    if (!id) return v2_fail(id.error());
    json::object out{
        {"IdentityType", identity_type_name(id->type)},
        {"FeedbackForwardingStatus", true},
        {"VerifiedForSendingStatus", id->status == domain::VerificationStatus::Success},
        {"DkimAttributes", dkim_attributes()},
        {"MailFromAttributes", json::object{{"MailFromDomainStatus", "FAILED"},
                                            {"BehaviorOnMxFailure", "USE_DEFAULT_VALUE"}}},
        {"Policies", json::object()},
        {"Tags", write_tags(id->tags)},
        {"VerificationStatus", verification_name(id->status)}};
    if (id->default_configuration_set) out["ConfigurationSetName"] = *id->default_configuration_set;
    return out;
  });

  t.add(m, "ListEmailIdentities", [&cp](const CallContext&, const json::object& in) -> Output {
    auto page = cp.list_identities(std::nullopt, doc::opt_str(in, "NextToken"), page_size(in));
    if (!page) return v2_fail(page.error());
    json::array ids;
    for (const auto& id : page->items) {
      ids.push_back(
          json::object{{"IdentityType", identity_type_name(id.type)},
                       {"IdentityName", id.name},
                       {"SendingEnabled", id.status == domain::VerificationStatus::Success},
                       {"VerificationStatus", verification_name(id.status)}});
    }
    json::object out{{"EmailIdentities", std::move(ids)}};
    if (page->next_token) out["NextToken"] = *page->next_token;
    return out;
  });

  t.add(m, "DeleteEmailIdentity", [&cp](const CallContext&, const json::object& in) -> Output {
    if (auto s = cp.delete_identity(doc::str(in, "EmailIdentity"), true); !s) {
      return v2_fail(s.error());
    }
    return json::object();
  });

  t.add(m, "GetAccount", [&cp](const CallContext&, const json::object&) -> Output {
    const auto& s = cp.settings();
    return json::object{
        {"DedicatedIpAutoWarmupEnabled", false},
        {"EnforcementStatus", "HEALTHY"},
        {"ProductionAccessEnabled", !s.sandbox},
        {"SendQuota",
         json::object{{"Max24HourSend", s.max_24_hour_send},
                      {"MaxSendRate", s.max_send_rate},
                      {"SentLast24Hours", s.usage ? s.usage->sent_last_24_hours() : 0.0}}},
        {"SendingEnabled", s.sending_enabled},
        {"SuppressionAttributes", json::object{{"SuppressedReasons", json::array()}}}};
  });
}

}  // namespace mailtally::services
