// Replay: re-runs the stored event log for a time range through one CloudWatch destination's
// CURRENT configuration, to backfill metrics after adding a destination or a dimension.
//
// Idempotency ledger (metrics/publishing_ledger.hpp, table `coverage`): per destination key and
// configuration fingerprint (domain::publishing_fingerprint), ranges (after, last] of event seqs
// already looked at under that configuration — by the live dispatcher (each batch it applies
// records (its read position, the batch's last seq], merged with the previous range when
// adjacent) or by a replay (each run of consecutive events of the set it applied). An event is
// published by a replay only when no range of the same fingerprint covers it; the datapoints
// and the new ranges are committed in one transaction per chunk, so running the same replay
// twice, or resuming one that crashed, counts every event once. Events after the dispatcher's
// position are left to the live dispatcher.
//
// Threading: any thread; concurrent with the dispatcher (the sink serializes their writes).
#pragma once

#include <cstdint>
#include <string>

#include "base/expected.hpp"
#include "destinations/cloudwatch_sink.hpp"
#include "domain/sending_store.hpp"
#include "domain/store.hpp"
#include "metrics/publishing_ledger.hpp"

namespace mailtally::services {

struct ReplayRequest {
  std::string configuration_set;
  std::string destination;
  double start = 0;  // epoch seconds, inclusive (event creation time)
  double end = 0;    // exclusive
};

struct ReplayReport {
  std::string fingerprint;
  std::int64_t through_seq = 0;     // the dispatcher's position: later events are live
  std::int64_t events_scanned = 0;  // events of the set in the time range
  std::int64_t already_covered = 0;
  std::int64_t events_applied = 0;  // looked at by this replay (matched or not)
  std::int64_t datapoints = 0;      // published
  std::int64_t drops = 0;           // matched but not published (bad characters, ...)
};

struct ReplayError {
  int status = 400;  // 404: no such set or destination; 400: not a CloudWatch destination
  std::string message;
};

base::Expected<ReplayReport, ReplayError> replay_events(domain::SendingStore& events,
                                                        domain::ConfigStore& config,
                                                        destinations::CloudWatchSink& sink,
                                                        const metrics::PublishingLedger& ledger,
                                                        const ReplayRequest& request);

}  // namespace mailtally::services
