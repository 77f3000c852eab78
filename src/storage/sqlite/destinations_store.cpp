#include "storage/sqlite/destinations_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "storage/sqlite/connection_pool.hpp"
#include "storage/sqlite/schema.hpp"

namespace mailtally::storage {

using sqlite::Connection;
using Sql = mailtally::sqlite::Sql;

namespace {

// Slots of this store's own connections (not shared with the other adapters' caches).
constexpr Sql kInsertTopic{
    0,
    "INSERT INTO sns_topics (arn, name, display_name, created_at) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (arn) DO NOTHING"};
constexpr Sql kGetTopic{1,
                        "SELECT arn, name, display_name, created_at FROM sns_topics "
                        "WHERE arn = ?1"};
constexpr Sql kDeleteTopic{2, "DELETE FROM sns_topics WHERE arn = ?1"};
constexpr Sql kListTopics{3,
                          "SELECT arn, name, display_name, created_at FROM sns_topics "
                          "ORDER BY created_at, arn"};
constexpr Sql kInsertSubscription{
    4,
    "INSERT INTO sns_subscriptions (arn, topic_arn, protocol, endpoint, token, confirmed, "
    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (topic_arn, protocol, endpoint) DO NOTHING"};
constexpr Sql kFindSubscription{
    5,
    "SELECT arn, topic_arn, protocol, endpoint, token, confirmed, created_at "
    "FROM sns_subscriptions WHERE topic_arn = ?1 AND protocol = ?2 AND endpoint = ?3"};
constexpr Sql kDeleteSubscription{6, "DELETE FROM sns_subscriptions WHERE arn = ?1"};
constexpr Sql kSubscriptions{
    7,
    "SELECT arn, topic_arn, protocol, endpoint, token, confirmed, created_at "
    "FROM sns_subscriptions WHERE ?1 = '' OR topic_arn = ?1 ORDER BY created_at, arn"};
constexpr Sql kConfirm{8,
                       "UPDATE sns_subscriptions SET confirmed = 1 WHERE topic_arn = ?1 AND "
                       "token = ?2 RETURNING arn, topic_arn, protocol, endpoint, token, "
                       "confirmed, created_at"};
constexpr Sql kStatistics{
    9,
    "SELECT bucket, delivery_attempts, bounces, complaints, rejects FROM send_statistics "
    "WHERE bucket >= ?1 ORDER BY bucket"};

// The fold: events (seq in (?1, ?2]) counted into their 15-minute interval, recipients each.
constexpr Sql kFoldEnd{10,
                       "SELECT max(seq) FROM (SELECT seq FROM events WHERE seq > ?1 "
                       "ORDER BY seq LIMIT ?2)"};
constexpr Sql kFold{
    11,
    "INSERT INTO send_statistics (bucket, delivery_attempts, bounces, complaints, rejects) "
    "SELECT CAST(created_at / 900 AS INTEGER) * 900, "
    "sum(CASE event_type WHEN 'Send' THEN "
    "coalesce(json_array_length(record, '$.mail.destination'), 0) ELSE 0 END), "
    "sum(CASE event_type WHEN 'Bounce' THEN "
    "coalesce(json_array_length(record, '$.bounce.bouncedRecipients'), 0) ELSE 0 END), "
    "sum(CASE event_type WHEN 'Complaint' THEN "
    "coalesce(json_array_length(record, '$.complaint.complainedRecipients'), 0) ELSE 0 END), "
    "sum(CASE event_type WHEN 'Reject' THEN "
    "coalesce(json_array_length(record, '$.mail.destination'), 0) ELSE 0 END) "
    "FROM events WHERE seq > ?1 AND seq <= ?2 "
    "AND event_type IN ('Send', 'Bounce', 'Complaint', 'Reject') GROUP BY 1 "
    "ON CONFLICT (bucket) DO UPDATE SET "
    "delivery_attempts = delivery_attempts + excluded.delivery_attempts, "
    "bounces = bounces + excluded.bounces, complaints = complaints + excluded.complaints, "
    "rejects = rejects + excluded.rejects"};
constexpr Sql kFoldCursor{12,
                          "SELECT last_seq FROM event_cursors WHERE configuration_set = '' AND "
                          "destination = 'send-statistics'"};
constexpr Sql kAdvanceFoldCursor{
    13,
    "INSERT INTO event_cursors (configuration_set, destination, last_seq) "
    "VALUES ('', 'send-statistics', ?1) ON CONFLICT (configuration_set, destination) "
    "DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)"};

std::unique_ptr<Connection> open_connection(const std::string& path, const SqliteOptions& o) {
  auto conn = std::make_unique<Connection>(path, o.exclusive_process ? "unix-excl" : nullptr);
  sqlite::configure_connection(*conn, o.durability == Durability::PowerLoss);
  return conn;
}

domain::SnsTopic read_topic(sqlite::Statement& s) {
  return {std::string(s.text(0)), std::string(s.text(1)), std::string(s.text(2)), s.real(3)};
}

domain::SnsSubscription read_subscription(sqlite::Statement& s) {
  domain::SnsSubscription out;
  out.arn = s.text(0);
  out.topic_arn = s.text(1);
  out.protocol = s.text(2);
  out.endpoint = s.text(3);
  out.token = s.text(4);
  out.confirmed = s.integer(5) != 0;
  out.created_at = s.real(6);
  return out;
}

}  // namespace

std::unique_ptr<SqliteDestinationsStore> SqliteDestinationsStore::open(const std::string& path,
                                                                       SqliteOptions options) {
  if (path.empty() || path == ":memory:") {
    throw std::runtime_error("destinations store: a database file path is required");
  }
  // As SqliteSendingStore: create only a new file (O_EXCL); never open and close an existing
  // database file outside SQLite (it would drop this process's POSIX locks on it).
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    throw std::runtime_error("destinations store: cannot open '" + path +
                             "': " + std::strerror(errno));
  }
  auto first = open_connection(path, options);
  sqlite::migrate(*first);
  auto pool = std::make_unique<sqlite::ConnectionPool>(
      [path, options] { return open_connection(path, options); }, 2);
  pool->adopt(std::move(first));
  return std::unique_ptr<SqliteDestinationsStore>(new SqliteDestinationsStore(std::move(pool)));
}

SqliteDestinationsStore::SqliteDestinationsStore(std::unique_ptr<sqlite::ConnectionPool> pool)
    : pool_(std::move(pool)) {}

SqliteDestinationsStore::~SqliteDestinationsStore() = default;

domain::SnsTopic SqliteDestinationsStore::create_topic(const domain::SnsTopic& t) {
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  conn->use(kInsertTopic)
      .bind(1, t.arn)
      .bind(2, t.name)
      .bind(3, t.display_name)
      .bind(4, t.created_at)
      .run();
  auto s = conn->use(kGetTopic);
  s.bind(1, t.arn);
  if (!s.step()) throw std::runtime_error("destinations store: topic vanished");
  auto out = read_topic(s);
  tx.commit();
  return out;
}

std::optional<domain::SnsTopic> SqliteDestinationsStore::get_topic(std::string_view arn) {
  auto conn = pool_->acquire();
  auto s = conn->use(kGetTopic);
  s.bind(1, arn);
  if (!s.step()) return std::nullopt;
  return read_topic(s);
}

bool SqliteDestinationsStore::delete_topic(std::string_view arn) {
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  bool deleted = conn->use(kDeleteTopic).bind(1, arn).run() > 0;
  tx.commit();
  return deleted;
}

std::vector<domain::SnsTopic> SqliteDestinationsStore::list_topics() {
  auto conn = pool_->acquire();
  auto s = conn->use(kListTopics);
  std::vector<domain::SnsTopic> out;
  while (s.step()) out.push_back(read_topic(s));
  return out;
}

domain::SnsSubscription SqliteDestinationsStore::subscribe(const domain::SnsSubscription& sub) {
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  conn->use(kInsertSubscription)
      .bind(1, sub.arn)
      .bind(2, sub.topic_arn)
      .bind(3, sub.protocol)
      .bind(4, sub.endpoint)
      .bind(5, sub.token)
      .bind(6, std::int64_t{sub.confirmed})
      .bind(7, sub.created_at)
      .run();
  auto s = conn->use(kFindSubscription);
  s.bind(1, sub.topic_arn).bind(2, sub.protocol).bind(3, sub.endpoint);
  if (!s.step()) throw std::runtime_error("destinations store: subscription vanished");
  auto out = read_subscription(s);
  tx.commit();
  return out;
}

bool SqliteDestinationsStore::unsubscribe(std::string_view arn) {
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  bool deleted = conn->use(kDeleteSubscription).bind(1, arn).run() > 0;
  tx.commit();
  return deleted;
}

std::vector<domain::SnsSubscription> SqliteDestinationsStore::subscriptions(
    std::string_view topic_arn) {
  auto conn = pool_->acquire();
  auto s = conn->use(kSubscriptions);
  s.bind(1, topic_arn);
  std::vector<domain::SnsSubscription> out;
  while (s.step()) out.push_back(read_subscription(s));
  return out;
}

std::optional<domain::SnsSubscription> SqliteDestinationsStore::confirm(std::string_view topic_arn,
                                                                        std::string_view token) {
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  std::optional<domain::SnsSubscription> out;
  {
    auto s = conn->use(kConfirm);
    s.bind(1, topic_arn).bind(2, token);
    if (s.step()) out = read_subscription(s);
  }
  tx.commit();
  return out;
}

std::size_t SqliteDestinationsStore::fold_send_statistics(std::size_t max_events) {
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  std::int64_t from = 0;
  {
    auto s = conn->use(kFoldCursor);
    if (s.step()) from = s.integer(0);
  }
  std::int64_t to = from;
  {
    auto s = conn->use(kFoldEnd);
    s.bind(1, from).bind(2, static_cast<std::int64_t>(max_events));
    if (s.step() && !s.is_null(0)) to = s.integer(0);
  }
  if (to == from) return 0;
  conn->use(kFold).bind(1, from).bind(2, to).run();
  conn->use(kAdvanceFoldCursor).bind(1, to).run();
  tx.commit();
  // The seq distance: seq values grow by one per event in commit order (writers are
  // serialized), so this is the number of events folded.
  return static_cast<std::size_t>(to - from);
}

std::vector<domain::SendDataPoint> SqliteDestinationsStore::send_statistics(std::int64_t since) {
  auto conn = pool_->acquire();
  auto s = conn->use(kStatistics);
  s.bind(1, since);
  std::vector<domain::SendDataPoint> out;
  while (s.step()) {
    out.push_back({s.integer(0), s.integer(1), s.integer(2), s.integer(3), s.integer(4)});
  }
  return out;
}

}  // namespace mailtally::storage
