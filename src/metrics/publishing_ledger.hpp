// What the SES publishing path keeps beside its datapoints in the metrics database, written in
// the SAME transaction as the datapoints (so the books never disagree with the data):
//   - series ownership: which series each destination publishes into (cost and cap);
//   - drop diagnostics: counts and the latest examples of datapoints not published;
//   - coverage: which event seqs were published under which destination configuration
//     (fingerprint), live or by a replay, so a replay never counts an event twice;
//   - per-destination series caps set over the local API.
// An "owner" is a destination key "<configuration set>/<event destination>".
//
// Threading: every method may be called from any thread at once (the store serializes
// writers). Durability: a returned write is committed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/types.hpp"

namespace mailtally::metrics {

// One datapoint a destination did not publish.
struct DropNote {
  std::string reason;      // bad_header_characters, non_ascii, link_tag_on_non_click, ...
  std::int64_t seq = 0;    // the event log seq
  std::string message_id;  // SES MessageId of the event's message
  std::string dimension;   // the dimension that caused it (empty when none)
  double at = 0;           // epoch seconds of the event
};

// Event seqs in (after, last].
struct SeqRange {
  std::int64_t after = 0;
  std::int64_t last = 0;
  friend bool operator==(const SeqRange&, const SeqRange&) = default;
};

struct LedgerWrite {
  std::string owner;
  std::vector<std::size_t> claims;  // indexes of the put's data whose series `owner` publishes to
  std::vector<DropNote> drops;
  std::string fingerprint;         // configuration the datapoints were published under
  std::optional<SeqRange> live;    // events the live dispatcher processed (merged if adjacent)
  std::vector<SeqRange> replayed;  // events a replay processed
};

struct DropCount {
  std::string owner;
  std::string reason;
  std::int64_t count = 0;
  double last_at = 0;
};

class PublishingLedger {
 public:
  virtual ~PublishingLedger() = default;

  // MetricStore::put (with the cursor advance when given) plus `ledger`, in one transaction.
  virtual void put_published(const std::vector<Datum>& data, const CursorAdvance* advance,
                             const LedgerWrite& ledger) = 0;

  // Per key: true when `owner` already publishes into that series.
  virtual std::vector<bool> claimed(std::string_view owner,
                                    const std::vector<SeriesKey>& keys) const = 0;
  // The series `owner` publishes into (still stored), in creation order.
  virtual std::vector<SeriesKey> owned_series(std::string_view owner) const = 0;
  virtual std::vector<std::string> owners() const = 0;

  virtual std::vector<DropCount> drop_counts() const = 0;
  // The latest `limit` drops of owner + reason, newest first.
  virtual std::vector<DropNote> drop_examples(std::string_view owner, std::string_view reason,
                                              std::size_t limit) const = 0;

  // Live and replayed coverage of owner + fingerprint, sorted by `after`.
  virtual std::vector<SeqRange> coverage(std::string_view owner,
                                         std::string_view fingerprint) const = 0;

  // Series caps set per owner (nullopt: remove the override).
  virtual void set_cap(std::string_view owner, std::optional<std::int64_t> cap) = 0;
  virtual std::vector<std::pair<std::string, std::int64_t>> caps() const = 0;

  // Every stored metric of namespace + name (also those idle for more than two weeks).
  virtual std::vector<SeriesKey> series_named(std::string_view ns, std::string_view name) const = 0;
  // Every stored series.
  virtual std::vector<SeriesKey> all_series() const = 0;
};

// true when `seq` lies in one of `ranges` (sorted by `after`, possibly overlapping).
bool covered(const std::vector<SeqRange>& ranges, std::int64_t seq);

}  // namespace mailtally::metrics
