// SES v1 (Query protocol, 2010-12-01): configuration sets, event destinations, identities and
// account reads.
#include "services/doc.hpp"
#include "services/errors.hpp"
#include "services/providers.hpp"
#include "services/translate.hpp"

namespace mailtally::services {
namespace json = boost::json;
namespace {

using domain::ControlPlane;

base::Unexpected<wire::ApiError> v1_fail(const domain::Error& e) {
  return base::unexpected(ses_v1_error(e));
}

std::string_view status_name(domain::VerificationStatus s) {
  switch (s) {
    case domain::VerificationStatus::Pending:
      return "Pending";
    case domain::VerificationStatus::Success:
      return "Success";
    case domain::VerificationStatus::Failed:
      return "Failed";
    case domain::VerificationStatus::TemporaryFailure:
      return "TemporaryFailure";
    case domain::VerificationStatus::NotStarted:
      return "NotStarted";
  }
  return "Pending";
}

json::object describe(const domain::ConfigurationSetRecord& rec, const json::object& in) {
  json::object out;
  out["ConfigurationSet"] = json::object{{"Name", rec.set.name}};
  const auto* names = doc::arr(in, "ConfigurationSetAttributeNames");
  if (!names) return out;
  auto wanted = [&](std::string_view n) {
    for (const auto& v : *names) {
      if (v.is_string() && v.get_string() == n) return true;
    }
    return false;
  };
  if (wanted("eventDestinations")) {
    json::array dests;
    for (const auto& d : rec.destinations) dests.push_back(destination_to(SesVersion::V1, d));
    out["EventDestinations"] = std::move(dests);
  }
  if (wanted("trackingOptions") && rec.set.custom_redirect_domain) {
    out["TrackingOptions"] =
        json::object{{"CustomRedirectDomain", *rec.set.custom_redirect_domain}};
  }
  if (wanted("deliveryOptions")) {
    out["DeliveryOptions"] = json::object{
        {"TlsPolicy", rec.set.tls_policy == domain::TlsPolicy::Require ? "Require" : "Optional"}};
  }
  if (wanted("reputationOptions")) {
    json::object rep{{"SendingEnabled", rec.set.sending_enabled},
                     {"ReputationMetricsEnabled", rec.set.reputation_metrics_enabled}};
    if (rec.set.last_fresh_start) rep["LastFreshStart"] = *rec.set.last_fresh_start;
    out["ReputationOptions"] = std::move(rep);
  }
  return out;
}

}  // namespace

void register_ses_v1(OperationTable& t, ControlPlane& cp) {
  const wire::Service& m = wire::ses_v1_model();

  t.add(m, "CreateConfigurationSet", [&cp](const CallContext&, const json::object& in) -> Output {
    domain::ConfigurationSet set;
    set.name = doc::str(*doc::obj(in, "ConfigurationSet"), "Name");
    if (auto s = cp.create_configuration_set(std::move(set)); !s) return v1_fail(s.error());
    return json::object();
  });

  t.add(m, "DeleteConfigurationSet", [&cp](const CallContext&, const json::object& in) -> Output {
    if (auto s = cp.delete_configuration_set(doc::str(in, "ConfigurationSetName")); !s) {
      return v1_fail(s.error());
    }
    return json::object();
  });

  t.add(m, "DescribeConfigurationSet", [&cp](const CallContext&, const json::object& in) -> Output {
    auto rec = cp.get_configuration_set(doc::str(in, "ConfigurationSetName"));
    if (!rec) return v1_fail(rec.error());
    return describe(*rec, in);
  });

  t.add(m, "ListConfigurationSets", [&cp](const CallContext&, const json::object& in) -> Output {
    auto page = cp.list_configuration_sets(
        doc::opt_str(in, "NextToken"),
        static_cast<std::size_t>(doc::opt_int(in, "MaxItems").value_or(1000)));
    if (!page) return v1_fail(page.error());
    json::array sets;
    for (const auto& n : page->items) sets.push_back(json::object{{"Name", n}});
    json::object out{{"ConfigurationSets", std::move(sets)}};
    if (page->next_token) out["NextToken"] = *page->next_token;
    return out;
  });

  auto put_destination = [&cp](bool create) {
    return [&cp, create](const CallContext&, const json::object& in) -> Output {
      const auto& ed = *doc::obj(in, "EventDestination");
      auto d = destination_from(SesVersion::V1, ed, doc::str(ed, "Name"));
      std::string set = doc::str(in, "ConfigurationSetName");
      auto s = create ? cp.create_event_destination(set, std::move(d))
                      : cp.update_event_destination(set, std::move(d));
      if (!s) return v1_fail(s.error());
      return json::object();
    };
  };
  t.add(m, "CreateConfigurationSetEventDestination", put_destination(true));
  t.add(m, "UpdateConfigurationSetEventDestination", put_destination(false));

  t.add(m, "DeleteConfigurationSetEventDestination",
        [&cp](const CallContext&, const json::object& in) -> Output {
          if (auto s = cp.delete_event_destination(doc::str(in, "ConfigurationSetName"),
                                                   doc::str(in, "EventDestinationName"));
              !s) {
            return v1_fail(s.error());
          }
          return json::object();
        });

  // Configuration set options. v1 keeps tracking options as a thing that exists or not.
  auto tracking = [&cp](bool create, bool remove) {
    return [&cp, create, remove](const CallContext&, const json::object& in) -> Output {
      std::string name = doc::str(in, "ConfigurationSetName");
      std::optional<std::string> redirect;
      if (const auto* t = doc::obj(in, "TrackingOptions")) {
        redirect = doc::opt_str(*t, "CustomRedirectDomain");
      }
      auto s = cp.update_configuration_set_options(
          name, [&](domain::ConfigurationSet& set) -> domain::Status {
            bool exists = set.custom_redirect_domain.has_value();
            if (create && exists) {
              return domain::fail(
                  domain::ErrorKind::AlreadyExists, domain::Subject::TrackingOptions,
                  "Configuration set <" + name + "> already has tracking options.", name);
            }
            if (!create && !exists) {
              return domain::fail(domain::ErrorKind::NotFound, domain::Subject::TrackingOptions,
                                  "Configuration set <" + name + "> has no tracking options.",
                                  name);
            }
            if (remove) {
              set.custom_redirect_domain.reset();
            } else {
              if (!redirect) {
                return domain::fail(domain::ErrorKind::InvalidParameter,
                                    domain::Subject::TrackingOptions,
                                    "TrackingOptions.CustomRedirectDomain is required.", name);
              }
              set.custom_redirect_domain = redirect;
            }
            return base::Ok{};
          });
      if (!s) return v1_fail(s.error());
      return json::object();
    };
  };
  t.add(m, "CreateConfigurationSetTrackingOptions", tracking(true, false));
  t.add(m, "UpdateConfigurationSetTrackingOptions", tracking(false, false));
  t.add(m, "DeleteConfigurationSetTrackingOptions", tracking(false, true));

  t.add(m, "PutConfigurationSetDeliveryOptions",
        [&cp](const CallContext&, const json::object& in) -> Output {
          auto s = cp.update_configuration_set_options(
              doc::str(in, "ConfigurationSetName"),
              [&](domain::ConfigurationSet& set) -> domain::Status {
                const auto* d = doc::obj(in, "DeliveryOptions");
                set.tls_policy = d && doc::str(*d, "TlsPolicy") == "Require"
                                     ? domain::TlsPolicy::Require
                                     : domain::TlsPolicy::Optional;
                return base::Ok{};
              });
          if (!s) return v1_fail(s.error());
          return json::object();
        });

  auto flag = [&cp](bool reputation) {
    return [&cp, reputation](const CallContext&, const json::object& in) -> Output {
      bool enabled = doc::boolean(in, "Enabled", false);
      auto s = cp.update_configuration_set_options(
          doc::str(in, "ConfigurationSetName"),
          [&](domain::ConfigurationSet& set) -> domain::Status {
            (reputation ? set.reputation_metrics_enabled : set.sending_enabled) = enabled;
            return base::Ok{};
          });
      if (!s) return v1_fail(s.error());
      return json::object();
    };
  };
  t.add(m, "UpdateConfigurationSetReputationMetricsEnabled", flag(true));
  t.add(m, "UpdateConfigurationSetSendingEnabled", flag(false));

  auto verify_email = [&cp](const CallContext&, const json::object& in) -> Output {
    auto id =
        cp.create_identity(doc::str(in, "EmailAddress"), domain::IdentityType::EmailAddress, false);
    if (!id) return v1_fail(id.error());
    return json::object();
  };
  t.add(m, "VerifyEmailIdentity", verify_email);
  t.add(m, "VerifyEmailAddress", verify_email);

  t.add(m, "VerifyDomainIdentity", [&cp](const CallContext&, const json::object& in) -> Output {
    auto id = cp.create_identity(doc::str(in, "Domain"), domain::IdentityType::Domain, false);
    if (!id) return v1_fail(id.error());
    return json::object{{"VerificationToken", id->verification_token}};
  });

  t.add(m, "ListIdentities", [&cp](const CallContext&, const json::object& in) -> Output {
    std::optional<domain::IdentityType> type;
    std::string ts = doc::str(in, "IdentityType");
    if (ts == "EmailAddress") type = domain::IdentityType::EmailAddress;
    if (ts == "Domain") type = domain::IdentityType::Domain;
    auto page =
        cp.list_identities(type, doc::opt_str(in, "NextToken"),
                           static_cast<std::size_t>(doc::opt_int(in, "MaxItems").value_or(1000)));
    if (!page) return v1_fail(page.error());
    json::array ids;
    for (const auto& id : page->items) ids.emplace_back(id.name);
    json::object out{{"Identities", std::move(ids)}};
    if (page->next_token) out["NextToken"] = *page->next_token;
    return out;
  });

  t.add(m, "DeleteIdentity", [&cp](const CallContext&, const json::object& in) -> Output {
    if (auto s = cp.delete_identity(doc::str(in, "Identity"), false); !s) {
      return v1_fail(s.error());
    }
    return json::object();
  });

  t.add(m, "GetIdentityVerificationAttributes",
        [&cp](const CallContext&, const json::object& in) -> Output {
          json::object attrs;
          if (const auto* names = doc::arr(in, "Identities")) {
            for (const auto& n : *names) {
              if (!n.is_string()) continue;
              auto id = cp.get_identity(n.get_string());
              if (!id) continue;  // SES omits identities it does not know
              json::object a{{"VerificationStatus", status_name(id->status)}};
              if (id->type == domain::IdentityType::Domain) {
                a["VerificationToken"] = id->verification_token;
              }
              attrs[n.get_string()] = std::move(a);
            }
          }
          return json::object{{"VerificationAttributes", std::move(attrs)}};
        });

  t.add(m, "GetSendQuota", [&cp](const CallContext&, const json::object&) -> Output {
    const auto& s = cp.settings();
    return json::object{{"Max24HourSend", s.max_24_hour_send},
                        {"MaxSendRate", s.max_send_rate},
                        {"SentLast24Hours", s.usage ? s.usage->sent_last_24_hours() : 0.0}};
  });

  t.add(m, "GetSendStatistics", [&cp](const CallContext&, const json::object&) -> Output {
    json::array points;
    if (const auto* usage = cp.settings().usage) {
      for (const auto& p : usage->send_statistics()) {
        points.push_back(json::object{{"Timestamp", static_cast<double>(p.bucket)},
                                      {"DeliveryAttempts", p.delivery_attempts},
                                      {"Bounces", p.bounces},
                                      {"Complaints", p.complaints},
                                      {"Rejects", p.rejects}});
      }
    }
    return json::object{{"SendDataPoints", std::move(points)}};
  });

  t.add(m, "GetAccountSendingEnabled", [&cp](const CallContext&, const json::object&) -> Output {
    return json::object{{"Enabled", cp.settings().sending_enabled}};
  });
}

void install_validation_mappers(Gateway& gateway) {
  gateway.set_validation_mapper(wire::ses_v1_model(), ses_v1_validation);
  gateway.set_validation_mapper(wire::ses_v2_model(), ses_v2_validation);
  gateway.set_validation_mapper(wire::cloudwatch_model(), cloudwatch_validation);
}

}  // namespace mailtally::services
