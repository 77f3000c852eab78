#include "sending/event_dispatcher.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "domain/rules.hpp"
#include "sending/event_record.hpp"

namespace mailtally::sending {
namespace {

std::optional<domain::EventType> type_of(std::string_view name) {
  for (int i = 0; i < domain::kEventTypeCount; ++i) {
    auto t = static_cast<domain::EventType>(i);
    if (domain::event_type_name(t) == name) return t;
  }
  return std::nullopt;
}

struct Pending {
  std::int64_t last_seq = 0;
  std::string fingerprint;  // of the destination's configuration in this batch
  std::vector<domain::Datapoint> datapoints;
  std::vector<domain::MetricDrop> drops;
};

}  // namespace

EventDispatcher::EventDispatcher(domain::SendingStore& store, domain::ConfigStore& config,
                                 domain::MetricSink& sink, DispatcherOptions options)
    : store_(store),
      config_(config),
      sink_(sink),
      options_(options),
      loop_("event dispatcher", 1, options_.batch, options_.poll,
            [this](std::size_t) { return run_once(); }) {
  if (options_.batch == 0) options_.batch = 1;
}

EventDispatcher::~EventDispatcher() { stop(); }

void EventDispatcher::start() {
  loop_.set_linger(options_.linger);
  loop_.set_background(options_.background);
  loop_.start();
}
void EventDispatcher::notify() { loop_.notify(); }
void EventDispatcher::stop() {
  loop_.stop();
  if (options_.leases) options_.leases->release(kCloudWatchLease, options_.node_id);
}

std::size_t EventDispatcher::run_once() {
  if (options_.leases) {
    double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (!options_.leases->try_acquire(kCloudWatchLease, options_.node_id, now,
                                      options_.lease_seconds)) {
      position_.reset();  // another node dispatches; re-read the shared position when ours again
      return 0;
    }
  }
  if (!position_) position_ = store_.cursor("", "").value_or(0);
  domain::EventFilter filter;
  filter.after = *position_;
  filter.limit = options_.batch;
  filter.read_own_writes = false;  // notified as events become readable
  auto events = store_.events(filter);
  if (events.empty()) return 0;

  std::map<std::string, std::optional<domain::ConfigurationSetRecord>, std::less<>> sets;
  std::map<std::string, std::int64_t, std::less<>> cursors;  // per cursor key
  std::map<std::string, Pending, std::less<>> pending;
  auto cursor_of = [&](const std::string& key) {
    auto c = cursors.find(key);
    if (c == cursors.end()) c = cursors.emplace(key, sink_.cursor(key).value_or(0)).first;
    return c->second;
  };
  const std::string account_key(domain::kAccountCursorKey);
  for (const auto& e : events) {
    auto type = type_of(e.event_type);
    if (!type) continue;
    // Account-level metrics: every message counts, with or without a configuration set.
    if (domain::is_account_metric(*type) && e.seq > cursor_of(account_key)) {
      Pending& p = pending[account_key];
      p.last_seq = e.seq;
      domain::Datapoint dp;
      dp.metric_name = std::string(domain::metric_name(*type));
      dp.timestamp = e.created_at;
      p.datapoints.push_back(std::move(dp));
    }
    if (e.configuration_set.empty()) continue;
    auto it = sets.find(e.configuration_set);
    if (it == sets.end()) {
      it = sets.emplace(e.configuration_set, config_.get_configuration_set(e.configuration_set))
               .first;
    }
    if (!it->second) continue;  // the set was deleted since
    std::optional<domain::EventFacts> facts;
    for (const auto& d : it->second->destinations) {
      if (!d.cloudwatch) continue;  // SNS/Firehose/EventBridge: ExternalDispatcher
      std::string key = domain::cursor_key(e.configuration_set, d.name);
      if (e.seq <= cursor_of(key)) continue;  // already applied (a batch read again)
      if (!facts) {
        facts.emplace();
        facts->type = *type;
        event_facts_from_record(e.record, e.tags_from_header, *facts);
        facts->timestamp = e.created_at;
      }
      auto outcome = domain::publish(d, *facts);
      if (!outcome) continue;
      Pending& p = pending[key];
      p.last_seq = e.seq;
      if (p.fingerprint.empty()) p.fingerprint = domain::publishing_fingerprint(d);
      if (outcome->datapoint) {
        outcome->datapoint->seq = e.seq;
        outcome->datapoint->message_id = e.message_id;
        p.datapoints.push_back(std::move(*outcome->datapoint));
      }
      if (outcome->dropped) {
        p.drops.push_back(
            {e.seq, *outcome->dropped, outcome->dimension, e.message_id, e.created_at});
      }
    }
  }
  for (const auto& [key, p] : pending) {
    sink_.apply(key, p.last_seq, p.datapoints, p.drops, {p.fingerprint, filter.after});
  }
  std::int64_t last = events.back().seq;
  store_.advance_cursor("", "", last);
  position_ = last;
  return events.size();
}

}  // namespace mailtally::sending
