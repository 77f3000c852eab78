#include "domain/control_plane.hpp"

#include <algorithm>
#include <chrono>

#include "base/crypto.hpp"
#include "domain/rules.hpp"

namespace mailtally::domain {
namespace {

std::string quoted(std::string_view s) { return "<" + std::string(s) + ">"; }

double epoch(base::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// Page tokens wrap the last key returned, so that pages stay stable under inserts.
std::string make_token(std::string_view last) { return base::base64_encode(last); }

Result<std::string> read_token(const std::optional<std::string>& token) {
  if (!token || token->empty()) return std::string();
  auto decoded = base::base64_decode(*token);
  if (!decoded) {
    return fail(ErrorKind::InvalidParameter, Subject::Other,
                "NextToken " + quoted(*token) + " is invalid.");
  }
  return *decoded;
}

Error set_not_found(std::string_view name) {
  return Error{ErrorKind::NotFound,
               Subject::ConfigurationSet,
               "Configuration set " + quoted(name) + " does not exist.",
               std::string(name),
               {}};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

IdentityType identity_type_of(std::string_view name) {
  return name.find('@') == std::string_view::npos ? IdentityType::Domain
                                                  : IdentityType::EmailAddress;
}

ControlPlane::ControlPlane(ConfigStore& store, const base::Clock& clock, AccountSettings settings)
    : store_(store), clock_(clock), settings_(settings) {}

Status ControlPlane::create_configuration_set(ConfigurationSet set) {
  if (auto s = check_configuration_set_name(set.name); !s) return s;
  for (const auto& tag : set.tags) {
    if (tag.key.empty() || tag.key.size() > 128 || tag.value.size() > 256) {
      return fail(ErrorKind::InvalidParameter, Subject::ConfigurationSet,
                  "Tag " + quoted(tag.key) +
                      " is invalid: keys are 1 to 128 characters and "
                      "values at most 256.",
                  set.name);
    }
  }
  set.created_at = epoch(clock_.now());
  ConfigurationSetRecord record{std::move(set), {}};
  return store_.create_configuration_set(record, kMaxConfigurationSets);
}

Result<ConfigurationSetRecord> ControlPlane::get_configuration_set(std::string_view name) const {
  auto rec = store_.get_configuration_set(name);
  if (!rec) return base::unexpected(set_not_found(name));
  return std::move(*rec);
}

Status ControlPlane::delete_configuration_set(std::string_view name) {
  if (!store_.delete_configuration_set(name)) return base::unexpected(set_not_found(name));
  return base::Ok{};
}

Result<Page<std::string>> ControlPlane::list_configuration_sets(
    const std::optional<std::string>& token, std::size_t limit) const {
  auto after = read_token(token);
  if (!after) return base::unexpected(after.error());
  limit = std::clamp<std::size_t>(limit, 1, 1000);
  // Ask for one more than the page to know whether a next page exists.
  auto names = store_.list_configuration_sets(*after, limit + 1);
  Page<std::string> page;
  if (names.size() > limit) {
    names.resize(limit);
    page.next_token = make_token(names.back());
  }
  page.items = std::move(names);
  return page;
}

Status ControlPlane::update_configuration_set_options(
    std::string_view name, const std::function<Status(ConfigurationSet&)>& change) {
  return store_.update_configuration_set(name, [&](ConfigurationSetRecord& rec) -> Status {
    if (auto s = change(rec.set); !s) return s;
    if (rec.set.custom_redirect_domain && !is_valid_domain(*rec.set.custom_redirect_domain)) {
      return fail(ErrorKind::InvalidParameter, Subject::TrackingOptions,
                  "Custom redirect domain " + quoted(*rec.set.custom_redirect_domain) +
                      " is not a valid domain name.",
                  std::string(name));
    }
    return base::Ok{};
  });
}

Status ControlPlane::create_event_destination(std::string_view set, EventDestination d) {
  if (auto s = check_event_destination(set, d); !s) return s;
  return store_.update_configuration_set(set, [&](ConfigurationSetRecord& rec) -> Status {
    for (const auto& existing : rec.destinations) {
      if (existing.name == d.name) {
        return fail(ErrorKind::AlreadyExists, Subject::EventDestination,
                    "Event destination " + quoted(d.name) +
                        " already exists in configuration set " + quoted(set) + ".",
                    std::string(set), d.name);
      }
    }
    if (rec.destinations.size() >= kMaxEventDestinationsPerSet) {
      return fail(ErrorKind::LimitExceeded, Subject::EventDestination,
                  "Configuration set " + quoted(set) + " already has the maximum of " +
                      std::to_string(kMaxEventDestinationsPerSet) + " event destinations.",
                  std::string(set), d.name);
    }
    rec.destinations.push_back(d);
    return base::Ok{};
  });
}

Status ControlPlane::update_event_destination(std::string_view set, EventDestination d) {
  if (auto s = check_event_destination(set, d); !s) return s;
  return store_.update_configuration_set(set, [&](ConfigurationSetRecord& rec) -> Status {
    for (auto& existing : rec.destinations) {
      if (existing.name == d.name) {
        existing = d;
        return base::Ok{};
      }
    }
    return fail(ErrorKind::NotFound, Subject::EventDestination,
                "Event destination " + quoted(d.name) + " does not exist in configuration set " +
                    quoted(set) + ".",
                std::string(set), d.name);
  });
}

Status ControlPlane::delete_event_destination(std::string_view set, std::string_view name) {
  return store_.update_configuration_set(set, [&](ConfigurationSetRecord& rec) -> Status {
    auto it = std::find_if(rec.destinations.begin(), rec.destinations.end(),
                           [&](const EventDestination& e) { return e.name == name; });
    if (it == rec.destinations.end()) {
      return fail(ErrorKind::NotFound, Subject::EventDestination,
                  "Event destination " + quoted(name) + " does not exist in configuration set " +
                      quoted(set) + ".",
                  std::string(set), std::string(name));
    }
    rec.destinations.erase(it);
    return base::Ok{};
  });
}

Result<std::vector<EventDestination>> ControlPlane::get_event_destinations(
    std::string_view set) const {
  auto rec = get_configuration_set(set);
  if (!rec) return base::unexpected(rec.error());
  return std::move(rec->destinations);
}

Result<Identity> ControlPlane::create_identity(std::string name, IdentityType type,
                                               bool must_be_new,
                                               std::optional<std::string> default_set,
                                               std::vector<ResourceTag> tags) {
  if (type == IdentityType::Domain) {
    name = lower(std::move(name));
    if (!is_valid_domain(name)) {
      return fail(ErrorKind::InvalidParameter, Subject::Identity,
                  "Domain " + quoted(name) + " is not a valid domain name.");
    }
  } else if (!is_valid_email_address(name)) {
    return fail(ErrorKind::InvalidParameter, Subject::Identity,
                "Email address " + quoted(name) + " is not a valid email address.");
  }
  if (default_set && !store_.get_configuration_set(*default_set)) {
    return base::unexpected(set_not_found(*default_set));
  }
  if (auto existing = store_.get_identity(name)) {
    if (must_be_new) {
      return fail(ErrorKind::AlreadyExists, Subject::Identity,
                  "Email identity " + quoted(name) + " already exists.");
    }
    return std::move(*existing);
  }
  Identity id;
  id.name = std::move(name);
  id.type = type;
  id.status = VerificationStatus::Success;
  id.verification_token = base::base64_encode(base::random_bytes(30));
  id.default_configuration_set = std::move(default_set);
  id.tags = std::move(tags);
  id.created_at = epoch(clock_.now());
  store_.put_identity(id);
  return id;
}

Result<Identity> ControlPlane::get_identity(std::string_view name) const {
  auto id = store_.get_identity(name);
  if (!id && identity_type_of(name) == IdentityType::Domain)
    id = store_.get_identity(lower(std::string(name)));
  if (!id) {
    return fail(ErrorKind::NotFound, Subject::Identity,
                "Email identity " + quoted(name) + " does not exist.");
  }
  return std::move(*id);
}

Status ControlPlane::delete_identity(std::string_view name, bool must_exist) {
  bool deleted = store_.delete_identity(name);
  if (!deleted && identity_type_of(name) == IdentityType::Domain) {
    deleted = store_.delete_identity(lower(std::string(name)));
  }
  if (!deleted && must_exist) {
    return fail(ErrorKind::NotFound, Subject::Identity,
                "Email identity " + quoted(name) + " does not exist.");
  }
  return base::Ok{};
}

Result<Page<Identity>> ControlPlane::list_identities(std::optional<IdentityType> type,
                                                     const std::optional<std::string>& token,
                                                     std::size_t limit) const {
  auto after = read_token(token);
  if (!after) return base::unexpected(after.error());
  limit = std::clamp<std::size_t>(limit, 1, 1000);
  auto items = store_.list_identities(type, *after, limit + 1);
  Page<Identity> page;
  if (items.size() > limit) {
    items.resize(limit);
    page.next_token = make_token(items.back().name);
  }
  page.items = std::move(items);
  return page;
}

}  // namespace mailtally::domain
