#include "storage/sqlite/sending_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "storage/sqlite/connection_pool.hpp"
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/sending_statements.hpp"

namespace mailtally::storage {

using sqlite::Connection;
namespace json = boost::json;

namespace {

std::unique_ptr<Connection> open_connection(const std::string& path, const SqliteOptions& o) {
  auto conn = std::make_unique<Connection>(path, o.exclusive_process ? "unix-excl" : nullptr);
  sqlite::configure_connection(*conn, o.durability == Durability::PowerLoss);
  return conn;
}

std::string to_json(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return json::serialize(a);
}

std::vector<std::string> from_json(std::string_view text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& x : v.as_array()) {
    if (x.is_string()) out.emplace_back(x.as_string());
  }
  return out;
}

void bind_opt(sqlite::Statement& s, int i, const std::optional<std::string>& v) {
  if (v) {
    s.bind(i, *v);
  } else {
    s.bind_null(i);
  }
}

void insert_event(Connection& conn, std::string_view message_id, std::string_view set,
                  const domain::NewEvent& e, double now) {
  use(conn, sqlite::kInsertEvent)
      .bind(1, message_id)
      .bind(2, set)
      .bind(3, e.event_type)
      .bind(4, e.record)
      .bind(5, now)
      .run();
}

}  // namespace

std::unique_ptr<SqliteSendingStore> SqliteSendingStore::open(const std::string& path,
                                                             SqliteOptions options) {
  if (path.empty() || path == ":memory:") {
    throw std::runtime_error("sending store: a database file path is required");
  }
  // Create the file only when it is new (O_EXCL). Never open and close an existing database
  // file here: close() drops every POSIX lock this process holds on it, including those of
  // other open SQLite connections, which then lose track of the WAL.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    throw std::runtime_error("sending store: cannot open '" + path + "': " + std::strerror(errno));
  }
  auto first = open_connection(path, options);
  sqlite::migrate(*first);
  auto pool = std::make_unique<sqlite::ConnectionPool>(
      [path, options] { return open_connection(path, options); }, options.max_connections);
  pool->adopt(std::move(first));
  return std::unique_ptr<SqliteSendingStore>(new SqliteSendingStore(std::move(pool)));
}

SqliteSendingStore::SqliteSendingStore(std::unique_ptr<sqlite::ConnectionPool> pool)
    : pool_(std::move(pool)) {}

SqliteSendingStore::~SqliteSendingStore() = default;

std::int64_t SqliteSendingStore::enqueue(const domain::QueuedMessage& m,
                                         const std::vector<domain::NewEvent>& events, double now) {
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  use(*conn, sqlite::kInsertMessage)
      .bind(1, m.message_id)
      .bind(2, m.configuration_set)
      .bind(3, to_json(m.recipients))
      .bind(4, m.mail)
      .bind(5, m.raw)
      .bind(6, std::int64_t{m.has_virus})
      .bind(7, std::int64_t{m.tags_from_header})
      .bind(8, m.created_at)
      .run();
  std::int64_t id = sqlite3_last_insert_rowid(conn->handle());
  for (const auto& e : events) insert_event(*conn, m.message_id, m.configuration_set, e, now);
  tx.commit();
  return id;
}

std::vector<domain::QueuedMessage> SqliteSendingStore::queued(std::int64_t after_id,
                                                              std::size_t limit, std::size_t shard,
                                                              std::size_t shards) {
  if (shards == 0) shards = 1;
  auto conn = pool_->acquire();
  auto s = use(*conn, sqlite::kQueued);
  s.bind(1, after_id)
      .bind(2, sqlite::to_sql_limit(limit))
      .bind(3, static_cast<std::int64_t>(shards))
      .bind(4, static_cast<std::int64_t>(shard % shards));
  std::vector<domain::QueuedMessage> out;
  while (s.step()) {
    domain::QueuedMessage m;
    m.id = s.integer(0);
    m.message_id = std::string(s.text(1));
    m.configuration_set = std::string(s.text(2));
    m.recipients = from_json(s.text(3));
    m.mail = std::string(s.text(4));
    m.raw = std::string(s.text(5));
    m.created_at = s.real(6);
    m.has_virus = s.integer(7) != 0;
    m.tags_from_header = s.integer(8) != 0;
    out.push_back(std::move(m));
  }
  return out;
}

std::size_t SqliteSendingStore::complete(const std::vector<Completion>& completions, double now) {
  if (completions.empty()) return 0;
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  std::size_t applied = 0;
  for (const auto& c : completions) {
    if (use(*conn, sqlite::kFinishMessage).bind(1, c.id).bind(2, now).run() == 0) continue;
    for (const auto& e : c.events) insert_event(*conn, c.message_id, c.configuration_set, e, now);
    for (const auto& r : c.mailbox_recipients) {
      use(*conn, sqlite::kInsertMailbox).bind(1, c.message_id).bind(2, r).bind(3, now).run();
    }
    ++applied;
  }
  tx.commit();
  return applied;
}

std::vector<domain::LoggedEvent> SqliteSendingStore::events(const domain::EventFilter& f) {
  auto conn = pool_->acquire();
  auto s = use(*conn, sqlite::kEvents);
  s.bind(1, f.after);
  bind_opt(s, 2, f.configuration_set);
  bind_opt(s, 3, f.event_type);
  bind_opt(s, 4, f.message_id);
  s.bind(5, sqlite::to_sql_limit(f.limit));
  std::vector<domain::LoggedEvent> out;
  while (s.step()) {
    domain::LoggedEvent e;
    e.seq = s.integer(0);
    e.message_id = std::string(s.text(1));
    e.configuration_set = std::string(s.text(2));
    e.event_type = std::string(s.text(3));
    e.record = std::string(s.text(4));
    e.created_at = s.real(5);
    e.tags_from_header = s.integer(6) != 0;
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<domain::MailboxEntry> SqliteSendingStore::mailbox(std::optional<std::string> recipient,
                                                              std::size_t limit) {
  auto conn = pool_->acquire();
  auto s = use(*conn, sqlite::kMailbox);
  bind_opt(s, 1, recipient);
  s.bind(2, sqlite::to_sql_limit(limit));
  std::vector<domain::MailboxEntry> out;
  while (s.step()) {
    domain::MailboxEntry e;
    e.id = s.integer(0);
    e.message_id = std::string(s.text(1));
    e.recipient = std::string(s.text(2));
    e.delivered_at = s.real(3);
    e.mail = std::string(s.text(4));
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<domain::MailboxEntry> SqliteSendingStore::mailbox_message(
    std::string_view message_id) {
  auto conn = pool_->acquire();
  auto s = use(*conn, sqlite::kMailboxMessage);
  s.bind(1, message_id);
  if (!s.step()) return std::nullopt;
  domain::MailboxEntry e;
  e.id = s.integer(0);
  e.message_id = std::string(s.text(1));
  e.recipient = std::string(s.text(2));
  e.delivered_at = s.real(3);
  e.mail = std::string(s.text(4));
  e.raw = std::string(s.text(5));
  return e;
}

std::optional<std::string> SqliteSendingStore::raw_message(std::string_view message_id) {
  auto conn = pool_->acquire();
  auto s = use(*conn, sqlite::kRawMessage);
  s.bind(1, message_id);
  if (!s.step()) return std::nullopt;
  return std::string(s.text(0));
}

std::size_t SqliteSendingStore::queue_depth() {
  auto conn = pool_->acquire();
  // Uses the partial index messages_queued; not cached (monitoring only, no statement slot).
  return static_cast<std::size_t>(conn->query_int("SELECT count(*) FROM messages WHERE state = 0"));
}

std::optional<std::int64_t> SqliteSendingStore::cursor(std::string_view set,
                                                       std::string_view destination) {
  auto conn = pool_->acquire();
  auto s = use(*conn, sqlite::kGetCursor);
  s.bind(1, set).bind(2, destination);
  if (!s.step()) return std::nullopt;
  return s.integer(0);
}

void SqliteSendingStore::advance_cursor(std::string_view set, std::string_view destination,
                                        std::int64_t seq) {
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  use(*conn, sqlite::kAdvanceCursor).bind(1, set).bind(2, destination).bind(3, seq).run();
  tx.commit();
}

}  // namespace mailtally::storage
