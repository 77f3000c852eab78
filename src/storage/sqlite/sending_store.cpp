#include "storage/sqlite/sending_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <stdexcept>

#include "base/thread_name.hpp"
#include "storage/intake/record.hpp"
#include "storage/json_codec.hpp"
#include "storage/sqlite/checkpointer.hpp"
#include "storage/sqlite/connection_pool.hpp"
#include "storage/sqlite/group_commit.hpp"
#include "storage/sqlite/prepared.hpp"
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/sending_statements.hpp"
#include "storage/sqlite/suppression_store.hpp"

namespace mailtally::storage {

using sqlite::Connection;

namespace {

std::unique_ptr<Connection> open_connection(const std::string& path, const SqliteOptions& o) {
  auto conn = std::make_unique<Connection>(path, o.exclusive_process ? "unix-excl" : nullptr);
  sqlite::configure_connection(*conn, o.durability == Durability::PowerLoss);
  return conn;
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
      .bind_unowned(4, e.record)
      .bind(5, now)
      .run();
}

std::int64_t insert_message(Connection& conn, const domain::QueuedMessage& m,
                            const std::vector<domain::NewEvent>& events, double now) {
  use(conn, sqlite::kInsertMessage)
      .bind(1, m.message_id)
      .bind(2, m.configuration_set)
      .bind(3, encode_strings(m.recipients))
      .bind_unowned(4, m.mail)
      .bind_unowned(5, m.raw)
      .bind(6, std::int64_t{m.has_virus})
      .bind(7, std::int64_t{m.tags_from_header})
      .bind(8, m.created_at)
      .run();
  std::int64_t id = sqlite3_last_insert_rowid(conn.handle());
  if (m.finished) use(conn, sqlite::kFinishMessage).bind(1, id).bind(2, now).run();
  for (const auto& e : events) insert_event(conn, m.message_id, m.configuration_set, e, now);
  return id;
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
  auto checkpointer = std::make_unique<sqlite::Checkpointer>(open_connection(path, options));
  std::unique_ptr<SqliteSendingStore> store(
      new SqliteSendingStore(std::move(pool), std::move(checkpointer)));
  auto dir = std::filesystem::path(path).parent_path() / "intake";
  store->start_intake(dir.string(), options.durability == Durability::PowerLoss,
                      options.intake_backlog_bytes);
  return store;
}

namespace {

// A batch's connection and the store's write lock, held until its transaction has ended.
struct WriteHold {
  WriteHold(sqlite::ConnectionPool& pool, std::mutex& mu) : lease(pool.acquire()), lock(mu) {}
  sqlite::ConnectionPool::Lease lease;
  std::unique_lock<std::mutex> lock;
};

}  // namespace

SqliteSendingStore::SqliteSendingStore(std::unique_ptr<sqlite::ConnectionPool> pool,
                                       std::unique_ptr<sqlite::Checkpointer> checkpointer)
    : pool_(std::move(pool)), checkpointer_(std::move(checkpointer)) {
  // Background priority: no request waits for this thread but tracking hits and reads of
  // what was just sent (wait_readable); sends are acknowledged by the intake thread.
  committer_ = std::make_unique<sqlite::GroupCommitter>(
      [this] {
        auto hold = std::make_shared<WriteHold>(*pool_, write_mu_);
        return sqlite::GroupCommitter::Lease{&*hold->lease, hold};
      },
      1024, true);
}

SqliteSendingStore::~SqliteSendingStore() {
  if (!log_) return;
  intake_.reset();                           // appends every enqueue submitted so far, then stops
  appended_.stop();                          // the indexer indexes the rest of the log, then stops
  if (indexer_.joinable()) indexer_.join();  // indexes the whole log first
}

void SqliteSendingStore::start_intake(const std::string& dir, bool sync,
                                      std::uint64_t backlog_bytes) {
  backlog_bytes_ = backlog_bytes;
  intake::Position stored;
  {
    auto conn = pool_->acquire();
    auto s = use(*conn, sqlite::kIntakePosition);
    if (s.step()) {
      stored.segment = static_cast<std::uint64_t>(s.integer(0));
      stored.offset = static_cast<std::uint64_t>(s.integer(1));
    }
  }
  log_ = intake::Log::open(dir, sync, stored.segment);
  if (!log_) {
    // Another process (the server) owns the intake log: this one (a `mailtally keys` command,
    // say) commits its rare enqueues straight into the tables and never indexes.
    std::fprintf(stderr,
                 "mailtally: the intake log of this data dir is in use by another process; "
                 "sends from this process are committed directly\n");
    return;
  }
  // Without a stored position (a new database, or one from before the intake log) the log
  // holds nothing indexed yet: start at its oldest segment.
  read_from_ = stored.segment == 0 ? log_->begin() : stored;
  indexed_ = read_from_;
  // What a previous run acknowledged but did not index is indexed before anything is served.
  while (index_some(16u << 20) > 0) {
  }
  {
    std::lock_guard lock(indexed_mu_);
    indexer_running_ = true;
  }
  indexer_ = std::thread([this] { run_indexer(); });
  intake_ = std::make_unique<base::BatchCommitter<IntakeJob>>(
      [this](IntakeJob* first, IntakeJob* last) {
        std::vector<std::string> entries;
        entries.reserve(static_cast<std::size_t>(last - first));
        for (IntakeJob* j = first; j != last; ++j) entries.push_back(std::move(j->entry));
        wait_for_index_room();
        try {
          log_->append_frames(entries);
        } catch (...) {
          // A batch retried job by job needs its entries back.
          for (IntakeJob* j = first; j != last; ++j) {
            j->entry = std::move(entries[static_cast<std::size_t>(j - first)]);
          }
          throw;
        }
        appended_.notify();
      },
      [](IntakeJob& job, std::exception_ptr error) { job.done(0, error); }, 4096, "intake");
}

std::size_t SqliteSendingStore::index_some(std::size_t max_bytes) {
  intake::Position next = read_from_;
  auto payloads = log_->read(next, max_bytes);
  if (payloads.empty()) {
    // Nothing to index, but the reader may have moved past finished (or empty) segments.
    read_from_ = next;
    {
      std::lock_guard lock(indexed_mu_);
      indexed_ = next;
    }
    indexed_cv_.notify_all();
    return 0;
  }
  std::vector<intake::Entry> entries;
  entries.reserve(payloads.size());
  for (const auto& p : payloads) {
    auto e = intake::decode(p);
    if (!e) {
      std::fprintf(stderr, "mailtally: intake log: an entry that does not decode was skipped\n");
      continue;
    }
    entries.push_back(std::move(*e));
  }
  auto store_position = [&next](Connection& conn) {
    use(conn, sqlite::kSetIntakePosition)
        .bind(1, static_cast<std::int64_t>(next.segment))
        .bind(2, static_cast<std::int64_t>(next.offset))
        .run();
  };
  try {
    committer_->run([&](Connection& conn) {
      for (const auto& e : entries) insert_message(conn, e.message, e.events, e.now);
      store_position(conn);
    });
  } catch (const mailtally::sqlite::SqliteError& error) {
    if ((error.code() & 0xff) != SQLITE_CONSTRAINT) throw;  // retried later, nothing skipped
    // A constraint (a message id already stored): index the entries one by one and skip only
    // the ones that cannot be stored, so the log never stalls on them.
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      const bool last = i + 1 == entries.size();
      try {
        committer_->run([&](Connection& conn) {
          insert_message(conn, e.message, e.events, e.now);
          if (last) store_position(conn);
        });
      } catch (const mailtally::sqlite::SqliteError& one) {
        if ((one.code() & 0xff) != SQLITE_CONSTRAINT) throw;
        std::fprintf(stderr, "mailtally: intake log: message %s not indexed: %s\n",
                     e.message.message_id.c_str(), one.what());
        if (last) committer_->run(store_position);
      }
    }
  }
  read_from_ = next;
  {
    std::lock_guard lock(indexed_mu_);
    indexed_ = next;
  }
  indexed_cv_.notify_all();
  {
    // Called under the lock, so that once set_readable_listener({}) returned it runs no more.
    std::lock_guard lock(listener_mu_);
    if (listener_) listener_();
  }
  log_->drop_before(next);
  return payloads.size();
}

void SqliteSendingStore::run_indexer() {
  base::name_this_thread("indexer");
  base::lower_this_thread_priority();
  for (;;) {
    const std::uint64_t seen = appended_.generation();
    std::size_t got = 0;
    bool running = true;
    try {
      got = index_some(8u << 20);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mailtally: indexer: %s (will retry)\n", e.what());
      running = appended_.sleep_for(std::chrono::milliseconds(500));
    }
    if (running && got == 0) running = appended_.wait_for(seen, std::chrono::milliseconds(200));
    if (!running) break;
  }
  // Stopping: the intake thread is gone, so the log is complete; index the rest (one attempt:
  // what fails now is indexed at the next start).
  try {
    while (index_some(16u << 20) > 0) {
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mailtally: indexer: %s (the rest is indexed at the next start)\n",
                 e.what());
  }
  std::lock_guard lock(indexed_mu_);
  indexer_running_ = false;
  indexed_cv_.notify_all();
}

namespace {

// Bytes from `from` to `to` in the log, counting every segment in between as full.
std::uint64_t bytes_between(const intake::Position& from, const intake::Position& to) {
  if (to <= from) return 0;
  if (to.segment == from.segment) return to.offset - from.offset;
  return (to.segment - from.segment) * intake::Log::kSegmentBytes + to.offset - from.offset;
}

}  // namespace

void SqliteSendingStore::wait_for_index_room() {
  if (!log_) return;
  const intake::Position end = log_->end();
  std::unique_lock lock(indexed_mu_);
  auto behind = [&] { return bytes_between(indexed_, end) > backlog_bytes_; };
  if (!behind()) return;
  appended_.notify();
  indexed_cv_.wait(lock, [&] { return !indexer_running_ || !behind(); });
}

void SqliteSendingStore::wait_readable() {
  if (!log_) return;  // enqueues are committed before they are acknowledged
  const intake::Position target = log_->end();
  appended_.notify();
  std::unique_lock lock(indexed_mu_);
  // Bounded: when the database refuses writes (disk full) reads go on with what is indexed.
  indexed_cv_.wait_for(lock, std::chrono::seconds(30),
                       [&] { return !indexer_running_ || indexed_ >= target; });
}

void SqliteSendingStore::set_readable_listener(std::function<void()> listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

intake::Position SqliteSendingStore::indexed_position() const {
  std::lock_guard lock(indexed_mu_);
  return indexed_;
}

std::uint64_t SqliteSendingStore::enqueue_batches() const {
  return intake_ ? intake_->batches() : committer_->batches();
}

std::int64_t SqliteSendingStore::enqueue(const domain::QueuedMessage& m,
                                         const std::vector<domain::NewEvent>& events, double now) {
  std::promise<void> appended;
  auto result = appended.get_future();
  enqueue_async(m, events, now, [&appended](std::int64_t, std::exception_ptr error) {
    if (error) {
      appended.set_exception(error);
    } else {
      appended.set_value();
    }
  });
  result.get();
  wait_readable();
  auto conn = pool_->acquire();
  sqlite::Prepared q(*conn, "SELECT id FROM messages WHERE message_id = ?1");
  q->bind(1, m.message_id);
  if (!q->step())
    throw std::runtime_error("sending store: message " + m.message_id + " not stored");
  return q->integer(0);
}

void SqliteSendingStore::enqueue_async(domain::QueuedMessage m,
                                       std::vector<domain::NewEvent> events, double now,
                                       EnqueueDone done) {
  if (!log_) {  // without the intake log (see start_intake): one group-committed transaction
    struct Job {
      domain::QueuedMessage message;
      std::vector<domain::NewEvent> events;
      std::int64_t id = 0;
    };
    auto job = std::make_shared<Job>(Job{std::move(m), std::move(events), 0});
    committer_->submit(
        [job, now](Connection& conn) {
          job->id = insert_message(conn, job->message, job->events, now);
        },
        [job, done = std::move(done)](std::exception_ptr error) {
          done(error ? 0 : job->id, error);
        });
    return;
  }
  // Encoded here, on the caller's thread, so the intake thread only writes.
  IntakeJob job;
  job.entry.assign(intake::Log::kFrameHeader, '\0');
  intake::encode(intake::Entry{std::move(m), std::move(events), now}, job.entry);
  intake::Log::seal(job.entry);
  job.done = std::move(done);
  intake_->submit(std::move(job));
}

std::vector<domain::QueuedMessage> SqliteSendingStore::queued(std::int64_t after_id,
                                                              std::size_t limit, std::size_t shard,
                                                              std::size_t shards, double due_by) {
  if (shards == 0) shards = 1;
  auto conn = pool_->acquire();
  auto s = use(*conn, sqlite::kQueued);
  s.bind(1, after_id)
      .bind(2, sqlite::to_sql_limit(limit))
      .bind(3, static_cast<std::int64_t>(shards))
      .bind(4, static_cast<std::int64_t>(shard % shards))
      .bind(5, due_by);
  std::vector<domain::QueuedMessage> out;
  while (s.step()) {
    domain::QueuedMessage m;
    m.id = s.integer(0);
    m.message_id = std::string(s.text(1));
    m.configuration_set = std::string(s.text(2));
    m.recipients = decode_strings(s.text(3));
    m.mail = std::string(s.text(4));
    m.raw = std::string(s.text(5));
    m.created_at = s.real(6);
    m.has_virus = s.integer(7) != 0;
    m.tags_from_header = s.integer(8) != 0;
    if (!s.is_null(9)) m.remaining = decode_strings(s.text(9));
    m.attempts = static_cast<int>(s.integer(10));
    out.push_back(std::move(m));
  }
  return out;
}

std::size_t SqliteSendingStore::complete(const std::vector<Completion>& completions, double now) {
  if (completions.empty()) return 0;
  // Through the committer: its thread is the one writer of this database, so a completion
  // batch never holds the write lock on a (lower-priority) delivery thread while sends wait.
  std::size_t applied = 0;
  committer_->run([&](Connection& conn) {
    applied = 0;  // a batch that failed runs again alone
    for (const auto& c : completions) {
      if (c.defer) {
        sqlite::Prepared d(
            conn,
            "UPDATE messages SET remaining = ?2, next_attempt_at = ?3, attempts = ?4 "
            "WHERE id = ?1 AND state = 0");
        d->bind(1, c.id)
            .bind(2, encode_strings(c.defer->recipients))
            .bind(3, c.defer->next_attempt_at)
            .bind(4, std::int64_t{c.defer->attempts});
        if (d->run() == 0) continue;
      } else if (use(conn, sqlite::kFinishMessage).bind(1, c.id).bind(2, now).run() == 0) {
        continue;
      }
      for (const auto& x : c.suppress) sqlite::put_suppressed_in(conn, x);
      for (const auto& e : c.events) insert_event(conn, c.message_id, c.configuration_set, e, now);
      for (const auto& r : c.mailbox_recipients) {
        use(conn, sqlite::kInsertMailbox).bind(1, c.message_id).bind(2, r).bind(3, now).run();
      }
      ++applied;
    }
  });
  return applied;
}

std::vector<domain::LoggedEvent> SqliteSendingStore::events(const domain::EventFilter& f) {
  if (f.read_own_writes) wait_readable();
  auto conn = pool_->acquire();
  auto s = use(*conn, f.message_id          ? sqlite::kEventsOfMessage
                      : f.configuration_set ? sqlite::kEventsOfSet
                                            : sqlite::kEvents);
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
  wait_readable();
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
  wait_readable();
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
  wait_readable();
  auto conn = pool_->acquire();
  auto s = use(*conn, sqlite::kRawMessage);
  s.bind(1, message_id);
  if (!s.step()) return std::nullopt;
  return std::string(s.text(0));
}

bool SqliteSendingStore::append_message_events(std::string_view message_id, const MakeEvents& make,
                                               double now) {
  wait_readable();  // the message may have been acknowledged a moment ago
  bool found = false;
  committer_->run([&](Connection& conn) {
    std::string set;
    std::vector<domain::NewEvent> events;
    {
      auto s = use(conn, sqlite::kMessageForEvents);
      s.bind(1, message_id);
      found = s.step();
      if (!found) return;
      set = std::string(s.text(0));
      events = make(s.text(1), s.real(2));
    }
    for (const auto& e : events) insert_event(conn, message_id, set, e, now);
  });
  return found;
}

std::string SqliteSendingStore::server_secret(std::string_view name, std::string_view candidate) {
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != name.npos) {
    throw std::invalid_argument("server_secret: bad name");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : candidate) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  // Name and value are [a-z_] and [0-9a-f]: safe to put in the SQL text (no cached slot used).
  auto conn = pool_->acquire();
  std::lock_guard lock(write_mu_);
  sqlite::Transaction tx(*conn);
  std::string n(name);
  conn->exec(("INSERT INTO server_secrets (name, value, created_at) VALUES ('" + n + "', '" + hex +
              "', (julianday('now') - 2440587.5) * 86400.0) ON CONFLICT (name) DO NOTHING")
                 .c_str());
  std::string stored =
      conn->query_text(("SELECT value FROM server_secrets WHERE name = '" + n + "'").c_str());
  tx.commit();
  std::string out;
  for (std::size_t i = 0; i + 1 < stored.size(); i += 2) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    out += static_cast<char>(nibble(stored[i]) << 4 | nibble(stored[i + 1]));
  }
  return out;
}

std::size_t SqliteSendingStore::queue_depth() {
  // Monitoring (Prometheus scrapes): what is indexed, without waiting for the rest.
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
  committer_->run([&](Connection& conn) {
    use(conn, sqlite::kAdvanceCursor).bind(1, set).bind(2, destination).bind(3, seq).run();
  });
}

}  // namespace mailtally::storage
