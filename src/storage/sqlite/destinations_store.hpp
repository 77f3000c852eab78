// The SQLite adapter of the SNS subset's store (domain::SnsStore) and of the sending statistics
// (domain::SendStatisticsStore), over the same database file as SqliteStore (migration 3).
//
// It has its own small connection pool, so its cached statements use their own slots. Threading:
// every method may be called from any thread; writes run in one BEGIN IMMEDIATE transaction
// each and are committed before they return. Failures throw std::runtime_error.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "domain/send_statistics.hpp"
#include "domain/sns.hpp"
#include "storage/sqlite/connection_pool.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace mailtally::storage {

namespace sqlite {
class ConnectionPool;
}  // namespace sqlite

class SqliteDestinationsStore final : public domain::SnsStore, public domain::SendStatisticsStore {
 public:
  // Opens the existing (or new) database at `path`, migrating it as needed.
  static std::unique_ptr<SqliteDestinationsStore> open(const std::string& path,
                                                       SqliteOptions options = {});
  ~SqliteDestinationsStore() override;

  domain::SnsTopic create_topic(const domain::SnsTopic& topic) override;
  std::optional<domain::SnsTopic> get_topic(std::string_view arn) override;
  bool delete_topic(std::string_view arn) override;
  std::vector<domain::SnsTopic> list_topics() override;
  domain::SnsSubscription subscribe(const domain::SnsSubscription& subscription) override;
  bool unsubscribe(std::string_view subscription_arn) override;
  std::vector<domain::SnsSubscription> subscriptions(std::string_view topic_arn) override;
  std::optional<domain::SnsSubscription> confirm(std::string_view topic_arn,
                                                 std::string_view token) override;

  std::size_t fold_send_statistics(std::size_t max_events) override;
  std::vector<domain::SendDataPoint> send_statistics(std::int64_t since_bucket) override;

 private:
  explicit SqliteDestinationsStore(std::unique_ptr<sqlite::ConnectionPool> pool);
  std::unique_ptr<sqlite::ConnectionPool> pool_;
  std::mutex& write_mu_ = sqlite::shared_write_mutex();  // taken after a connection lease, held for
                                                         // the whole transaction
};

}  // namespace mailtally::storage
