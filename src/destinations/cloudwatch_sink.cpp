#include "destinations/cloudwatch_sink.hpp"

#include <chrono>
#include <unordered_map>

#include "domain/publishing.hpp"

namespace mailtally::destinations {
namespace {

metrics::Datum count_of(std::string ns, std::string name, std::vector<metrics::Dimension> dims,
                        double timestamp) {
  metrics::Datum d;
  d.series.metric.ns = std::move(ns);
  d.series.metric.name = std::move(name);
  d.series.metric.dimensions = std::move(dims);
  metrics::normalize(d.series.metric);
  d.series.unit = "Count";
  d.timestamp = timestamp;
  d.value = 1.0;
  return d;
}

// What CloudWatch can hold and later give back: the store's own rules plus the API's dimension
// limits (names 1..255, values 1..1024 characters).
bool retrievable(const metrics::SeriesKey& series) {
  if (!metrics::storable(series)) return false;
  for (const auto& d : series.metric.dimensions) {
    if (d.name.empty() || d.name.size() > 255 || d.value.empty() || d.value.size() > 1024) {
      return false;
    }
  }
  return true;
}

// A key telling series apart inside one batch.
std::string batch_key(const metrics::SeriesKey& k) {
  std::string s = k.metric.name;
  for (const auto& d : k.metric.dimensions) {
    s += '\x1f';
    s += d.name;
    s += '\x1e';
    s += d.value;
  }
  return s + '\x1d' + k.unit;
}

}  // namespace

std::pair<std::string, std::string> split_cursor_key(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return {std::string(key), std::string()};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

std::string sink_cursor_name(std::string_view cursor_key) {
  return "ses-publishing:" + std::string(cursor_key);
}

CloudWatchSink::CloudWatchSink(metrics::MetricStore& store, metrics::PublishingLedger& ledger,
                               const base::Clock& clock, SinkOptions options)
    : store_(store), ledger_(ledger), clock_(clock), options_(options) {}

std::optional<std::int64_t> CloudWatchSink::cursor(std::string_view cursor_key) {
  return store_.cursor(sink_cursor_name(cursor_key));
}

void CloudWatchSink::load_caps() {
  if (caps_loaded_) return;
  for (auto& [owner, cap] : ledger_.caps()) cap_overrides_[owner] = cap;
  caps_loaded_ = true;
}

std::optional<std::int64_t> CloudWatchSink::cap_of(std::string_view cursor_key) {
  std::lock_guard lock(mu_);
  load_caps();
  if (auto it = cap_overrides_.find(cursor_key); it != cap_overrides_.end()) return it->second;
  return options_.default_cap;
}

void CloudWatchSink::set_cap(std::string_view cursor_key, std::optional<std::int64_t> cap) {
  std::lock_guard lock(mu_);
  load_caps();
  ledger_.set_cap(cursor_key, cap);
  if (cap) {
    cap_overrides_[std::string(cursor_key)] = *cap;
  } else if (auto it = cap_overrides_.find(cursor_key); it != cap_overrides_.end()) {
    cap_overrides_.erase(it);
  }
}

void CloudWatchSink::apply(std::string_view cursor_key, std::int64_t seq,
                           const std::vector<domain::Datapoint>& datapoints,
                           const std::vector<domain::MetricDrop>& drops) {
  std::lock_guard lock(mu_);
  apply_locked(cursor_key, seq, datapoints, drops, nullptr, nullptr);
}

void CloudWatchSink::apply(std::string_view cursor_key, std::int64_t seq,
                           const std::vector<domain::Datapoint>& datapoints,
                           const std::vector<domain::MetricDrop>& drops,
                           const domain::PublishContext& context) {
  std::lock_guard lock(mu_);
  apply_locked(cursor_key, seq, datapoints, drops, &context, nullptr);
}

void CloudWatchSink::apply_replay(std::string_view cursor_key,
                                  const std::vector<domain::Datapoint>& datapoints,
                                  const std::vector<domain::MetricDrop>& drops,
                                  std::string_view fingerprint,
                                  const std::vector<metrics::SeqRange>& ranges) {
  std::lock_guard lock(mu_);
  domain::PublishContext ctx{fingerprint, 0};
  apply_locked(cursor_key, 0, datapoints, drops, &ctx, &ranges);
}

void CloudWatchSink::apply_locked(std::string_view cursor_key, std::int64_t seq,
                                  const std::vector<domain::Datapoint>& datapoints,
                                  const std::vector<domain::MetricDrop>& drops,
                                  const domain::PublishContext* context,
                                  const std::vector<metrics::SeqRange>* replayed) {
  // A live batch read again after a crash between our commit and the dispatcher's position.
  if (!replayed) {
    if (auto done = cursor(cursor_key); done && seq <= *done) return;
  }
  const double now = std::chrono::duration<double>(clock_.now().time_since_epoch()).count();
  const bool account = cursor_key == domain::kAccountCursorKey;
  // Named strings, not structured bindings: lambdas capture them (clang 14).
  const auto parts = split_cursor_key(cursor_key);
  const std::string& set = parts.first;
  const std::string& destination = parts.second;
  metrics::LedgerWrite ledger;
  ledger.owner = std::string(cursor_key);
  std::vector<metrics::Datum> data;
  data.reserve(datapoints.size() + drops.size() + 2);
  auto dropped_datum = [&](std::string_view reason) {
    return count_of(std::string(kDiagnosticsNamespace), std::string(kDroppedMetric),
                    {{"ConfigurationSet", set.empty() ? "-" : set},
                     {"EventDestination", destination.empty() ? "-" : destination},
                     {"Reason", std::string(reason)}},
                    now);
  };
  auto drop = [&](std::string_view reason, std::int64_t event_seq, const std::string& message_id,
                  const std::string& dimension, double timestamp) {
    data.push_back(dropped_datum(reason));
    ledger.drops.push_back({std::string(reason), event_seq, message_id, dimension, timestamp});
  };

  // Datapoints go straight into `data`; `candidates` indexes the storable ones and `sources`
  // their datapoints (a refused one is replaced in place by its drop).
  std::vector<std::size_t> candidates;
  std::vector<const domain::Datapoint*> sources;
  candidates.reserve(datapoints.size());
  sources.reserve(datapoints.size());
  for (const auto& p : datapoints) {
    std::vector<metrics::Dimension> dims;
    dims.reserve(p.dimensions.size());
    for (const auto& [name, value] : p.dimensions) dims.push_back({name, value});
    auto d =
        count_of(std::string(domain::kSesNamespace), p.metric_name, std::move(dims), p.timestamp);
    if (retrievable(d.series)) {
      candidates.push_back(data.size());
      sources.push_back(&p);
      data.push_back(std::move(d));
    } else {
      drop(kUnstorable, p.seq, p.message_id, "", p.timestamp);
    }
  }
  std::int64_t* owned = nullptr;
  if (!account && !candidates.empty()) {
    load_caps();
    std::optional<std::int64_t> cap = options_.default_cap;
    if (auto it = cap_overrides_.find(cursor_key); it != cap_overrides_.end()) cap = it->second;
    auto oc = owned_counts_.find(cursor_key);
    if (oc == owned_counts_.end()) {
      auto n = static_cast<std::int64_t>(ledger_.owned_series(cursor_key).size());
      oc = owned_counts_.emplace(std::string(cursor_key), n).first;
    }
    owned = &oc->second;
    // Ask the ledger once per distinct series of the batch (batches repeat few series).
    std::vector<std::size_t> slot(candidates.size());
    std::unordered_map<std::string, std::size_t> distinct;
    std::vector<metrics::SeriesKey> keys;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const metrics::SeriesKey& k = data[candidates[i]].series;
      auto [it, fresh_key] = distinct.emplace(batch_key(k), keys.size());
      if (fresh_key) keys.push_back(k);
      slot[i] = it->second;
    }
    const std::vector<bool> have = ledger_.claimed(cursor_key, keys);
    // Per distinct series not yet claimed: 1 accepted (new series), 2 refused (cap).
    std::vector<char> decision(keys.size(), 0);
    std::int64_t fresh = 0;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const std::size_t k = slot[i];
      if (have[k]) continue;
      if (decision[k] == 0) {
        decision[k] = (!cap || *owned + fresh < *cap) ? 1 : 2;
        if (decision[k] == 1) ++fresh;
      }
      if (decision[k] == 1) {
        ledger.claims.push_back(candidates[i]);
      } else {
        const auto* p = sources[i];
        data[candidates[i]] = dropped_datum(kCapReached);
        ledger.drops.push_back({std::string(kCapReached), p->seq, p->message_id, "", p->timestamp});
      }
    }
    *owned += fresh;
  }
  const std::size_t published = data.size() - ledger.drops.size();
  for (const auto& d : drops) {
    drop(domain::drop_reason_name(d.reason), d.seq, d.message_id, d.dimension,
         d.timestamp > 0 ? d.timestamp : now);
  }
  if (account) add_reputation(datapoints, data, now);

  if (context && !context->fingerprint.empty()) {
    ledger.fingerprint = std::string(context->fingerprint);
    if (replayed) {
      ledger.replayed = *replayed;
    } else {
      ledger.live = metrics::SeqRange{context->read_after, seq};
    }
  }
  try {
    if (replayed) {
      ledger_.put_published(data, nullptr, ledger);
    } else {
      metrics::CursorAdvance advance{sink_cursor_name(cursor_key), seq};
      ledger_.put_published(data, &advance, ledger);
    }
  } catch (...) {
    if (owned) owned_counts_.erase(std::string(cursor_key));  // recount next time
    window_loaded_ = window_loaded_ && !account;
    throw;
  }
  published_.fetch_add(published, std::memory_order_relaxed);
}

}  // namespace mailtally::destinations
