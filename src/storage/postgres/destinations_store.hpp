// The PostgreSQL adapter of the SNS subset's store (domain::SnsStore) and of the sending
// statistics (domain::SendStatisticsStore), schema component "destinations", shared by every node
// on the database. Same observable behaviour as storage/sqlite/destinations_store.hpp.
//
// Several nodes: no cache; every change is committed before the call returns and seen by the
// next read on every node. Creating a topic or subscription is idempotent across nodes (an
// insert that does nothing on conflict, then a read of the row that won).
//
// The fold reads the event log table `events` (seq BIGINT, strictly increasing in commit order)
// behind the cursor row ('', 'send-statistics') of `event_cursors`, as the SQLite adapter does;
// both tables belong to the sending component (PgSendingStore), which must be migrated before
// the first fold. The fold locks its cursor row FOR UPDATE in its transaction: nodes folding
// at once take turns, the second starts from where the first committed, so each event is
// counted exactly once. Buckets are 15-minute intervals (trunc(created_at / 900) * 900, as
// SQLite's CAST) and counts are recipients, read from the records' JSON as SQLite does.
//
// Threading: any thread; each call borrows a pooled connection. The pool is borrowed and must
// outlive the store. Database failures throw pg::Error (std::runtime_error).
#pragma once

#include <memory>

#include "domain/send_statistics.hpp"
#include "domain/sns.hpp"
#include "pg/pool.hpp"

namespace mailtally::storage {

class PgDestinationsStore final : public domain::SnsStore, public domain::SendStatisticsStore {
 public:
  // Migrates the "destinations" schema component. Throws pg::Error.
  static std::unique_ptr<PgDestinationsStore> open(pg::Pool& pool);

  domain::SnsTopic create_topic(const domain::SnsTopic& topic) override;
  std::optional<domain::SnsTopic> get_topic(std::string_view arn) override;
  bool delete_topic(std::string_view arn) override;
  std::vector<domain::SnsTopic> list_topics() override;
  domain::SnsSubscription subscribe(const domain::SnsSubscription& subscription) override;
  bool unsubscribe(std::string_view subscription_arn) override;
  std::vector<domain::SnsSubscription> subscriptions(std::string_view topic_arn) override;
  std::optional<domain::SnsSubscription> confirm(std::string_view topic_arn,
                                                 std::string_view token) override;

  // Returns the number of events folded (rows of the log, whatever gaps seq has).
  std::size_t fold_send_statistics(std::size_t max_events) override;
  std::vector<domain::SendDataPoint> send_statistics(std::int64_t since_bucket) override;

 private:
  explicit PgDestinationsStore(pg::Pool& pool) : pool_(pool) {}
  pg::Pool& pool_;
};

}  // namespace mailtally::storage
