#include "services/metrics_replay.hpp"

#include <algorithm>

#include "domain/event_sink.hpp"
#include "domain/rules.hpp"
#include "sending/event_record.hpp"

namespace mailtally::services {
namespace {

constexpr std::size_t kPage = 1000;  // events read per page
constexpr std::size_t kChunk = 500;  // events applied per transaction

std::optional<domain::EventType> type_of(std::string_view name) {
  for (int i = 0; i < domain::kEventTypeCount; ++i) {
    auto t = static_cast<domain::EventType>(i);
    if (domain::event_type_name(t) == name) return t;
  }
  return std::nullopt;
}

}  // namespace

base::Expected<ReplayReport, ReplayError> replay_events(domain::SendingStore& events,
                                                        domain::ConfigStore& config,
                                                        destinations::CloudWatchSink& sink,
                                                        const metrics::PublishingLedger& ledger,
                                                        const ReplayRequest& r) {
  auto set = config.get_configuration_set(r.configuration_set);
  if (!set) {
    return base::unexpected(ReplayError{404, "no configuration set " + r.configuration_set});
  }
  auto d = std::find_if(set->destinations.begin(), set->destinations.end(),
                        [&](const domain::EventDestination& e) { return e.name == r.destination; });
  if (d == set->destinations.end()) {
    return base::unexpected(
        ReplayError{404, "no event destination " + r.destination + " in " + r.configuration_set});
  }
  if (!d->cloudwatch) {
    return base::unexpected(ReplayError{
        400, "event destination " + r.destination + " is not a CloudWatch destination"});
  }
  const domain::EventDestination destination = *d;
  const std::string owner = domain::cursor_key(r.configuration_set, r.destination);

  ReplayReport report;
  report.fingerprint = domain::publishing_fingerprint(destination);
  report.through_seq = events.cursor("", "").value_or(0);
  const std::vector<metrics::SeqRange> done = ledger.coverage(owner, report.fingerprint);

  std::vector<domain::Datapoint> datapoints;
  std::vector<domain::MetricDrop> drops;
  std::vector<metrics::SeqRange> runs;  // closed runs plus the open one (last element)
  bool run_open = false;
  std::size_t pending = 0;
  auto flush = [&] {
    if (pending == 0) return;
    sink.apply_replay(owner, datapoints, drops, report.fingerprint, runs);
    report.datapoints += static_cast<std::int64_t>(datapoints.size());
    report.drops += static_cast<std::int64_t>(drops.size());
    datapoints.clear();
    drops.clear();
    // The open run stays (re-recorded, extended, by the next chunk: ranges upsert on `after`).
    if (run_open) {
      runs.erase(runs.begin(), runs.end() - 1);
    } else {
      runs.clear();
    }
    pending = 0;
  };

  domain::EventFilter filter;
  filter.configuration_set = r.configuration_set;
  filter.limit = kPage;
  filter.after = 0;
  bool finished = false;
  while (!finished) {
    auto page = events.events(filter);
    if (page.empty()) break;
    for (const auto& e : page) {
      filter.after = e.seq;
      if (e.seq > report.through_seq) {
        finished = true;
        break;
      }
      if (e.created_at < r.start || e.created_at >= r.end) {
        run_open = false;
        continue;
      }
      ++report.events_scanned;
      if (metrics::covered(done, e.seq)) {
        ++report.already_covered;
        run_open = false;
        continue;
      }
      ++report.events_applied;
      if (run_open) {
        runs.back().last = e.seq;
      } else {
        runs.push_back({e.seq - 1, e.seq});
        run_open = true;
      }
      ++pending;
      if (auto type = type_of(e.event_type)) {
        domain::EventFacts facts;
        facts.type = *type;
        sending::event_facts_from_record(e.record, e.tags_from_header, facts);
        facts.timestamp = e.created_at;
        if (auto outcome = domain::publish(destination, facts)) {
          if (outcome->datapoint) {
            outcome->datapoint->seq = e.seq;
            outcome->datapoint->message_id = e.message_id;
            datapoints.push_back(std::move(*outcome->datapoint));
          }
          if (outcome->dropped) {
            drops.push_back(
                {e.seq, *outcome->dropped, outcome->dimension, e.message_id, e.created_at});
          }
        }
      }
      if (pending >= kChunk) flush();
    }
    if (page.size() < kPage) break;
  }
  flush();
  return report;
}

}  // namespace mailtally::services
