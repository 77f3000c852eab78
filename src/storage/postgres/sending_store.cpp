#include "storage/postgres/sending_store.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "storage/json_codec.hpp"
#include "storage/postgres/enqueue_committer.hpp"
#include "storage/postgres/sending_log.hpp"

namespace mailtally::storage {

using pg_sending::EventRow;

namespace {

// Schema component "sending", version 1 (mirrors SQLite's migrations 2, 4 and 5 for these
// tables, plus the claim lease and the event-log head).
constexpr const char* kSchemaV1 = R"sql(
-- The durable queue (state 0 queued, 1 done); keeps each message's raw bytes for the mailbox.
-- A queued message deferred by the relay keeps only its `remaining` recipients (JSON array; NULL:
-- all) and is not due before next_attempt_at. A claimed message belongs to lease_owner until
-- lease_until (epoch seconds; 0: unclaimed).
CREATE TABLE messages (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id TEXT NOT NULL UNIQUE,
  state SMALLINT NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),
  configuration_set TEXT NOT NULL,  -- '' when none
  recipients TEXT NOT NULL,         -- JSON array of envelope recipients
  mail TEXT NOT NULL,               -- JSON: the event records' `mail` object
  raw BYTEA NOT NULL,
  has_virus BOOLEAN NOT NULL,
  tags_from_header BOOLEAN NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  finished_at DOUBLE PRECISION,
  remaining TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX messages_queued ON messages (id) WHERE state = 0;

-- The append-only SES event log; seq strictly increasing in commit order (sending_store.hpp).
CREATE TABLE events (
  seq BIGINT PRIMARY KEY,
  message_id TEXT NOT NULL,
  configuration_set TEXT NOT NULL,
  event_type TEXT NOT NULL,
  record TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX events_by_message ON events (message_id, seq);
CREATE INDEX events_by_set ON events (configuration_set, seq);

-- The last seq handed out; its row lock orders event appends cluster-wide.
CREATE TABLE event_log_head (
  id SMALLINT PRIMARY KEY CHECK (id = 1),
  last_seq BIGINT NOT NULL
);
INSERT INTO event_log_head (id, last_seq) VALUES (1, 0);

CREATE TABLE mailbox (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id TEXT NOT NULL,
  recipient TEXT NOT NULL,
  delivered_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX mailbox_by_recipient ON mailbox (lower(recipient), id);
CREATE INDEX mailbox_by_message ON mailbox (message_id, id);

-- Each event destination's last applied seq (the row ('', '') is the dispatcher's own).
CREATE TABLE event_cursors (
  configuration_set TEXT NOT NULL,
  destination TEXT NOT NULL,
  last_seq BIGINT NOT NULL,
  PRIMARY KEY (configuration_set, destination)
);

-- Secrets created once by the first node and shared by all ("tracking": tracking tokens).
CREATE TABLE server_secrets (
  name TEXT PRIMARY KEY,
  value BYTEA NOT NULL,
  created_at DOUBLE PRECISION NOT NULL
);
)sql";

std::int64_t sql_limit(std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(limit, kMax));
}

// The columns read_messages() expects (claim() repeats them with the alias m.).
constexpr std::string_view kMessageColumns =
    "id, message_id, configuration_set, recipients, mail, raw, created_at, has_virus, "
    "tags_from_header, remaining, attempts";

std::vector<domain::QueuedMessage> read_messages(const pg::Result& r) {
  std::vector<domain::QueuedMessage> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    domain::QueuedMessage m;
    m.id = r.integer(i, 0);
    m.message_id = r.str(i, 1);
    m.configuration_set = r.str(i, 2);
    m.recipients = decode_strings(r.text(i, 3));
    m.mail = r.str(i, 4);
    m.raw = r.bytea(i, 5);
    m.created_at = r.real(i, 6);
    m.has_virus = r.boolean(i, 7);
    m.tags_from_header = r.boolean(i, 8);
    if (!r.is_null(i, 9)) m.remaining = decode_strings(r.text(i, 9));
    m.attempts = static_cast<int>(r.integer(i, 10));
    out.push_back(std::move(m));
  }
  return out;
}

// "$n" for the next parameter of `params`, after appending `value` to it.
std::string add_param(std::vector<pg::Param>& params, pg::Param value) {
  params.push_back(value);
  return "$" + std::to_string(params.size());
}

}  // namespace

std::unique_ptr<PgSendingStore> PgSendingStore::open(pg::Pool& pool, PutSuppressed put_suppressed) {
  pg::migrate(pool, "sending", {kSchemaV1});
  return std::unique_ptr<PgSendingStore>(new PgSendingStore(pool, std::move(put_suppressed)));
}

PgSendingStore::PgSendingStore(pg::Pool& pool, PutSuppressed put_suppressed)
    : pool_(pool),
      put_suppressed_(std::move(put_suppressed)),
      committer_(std::make_unique<pg_sending::EnqueueCommitter>(pool)) {}

PgSendingStore::~PgSendingStore() = default;

std::uint64_t PgSendingStore::enqueue_batches() const { return committer_->batches(); }

std::int64_t PgSendingStore::enqueue(const domain::QueuedMessage& message,
                                     const std::vector<domain::NewEvent>& events, double now) {
  return committer_->run(message, events, now);
}

void PgSendingStore::enqueue_async(domain::QueuedMessage message,
                                   std::vector<domain::NewEvent> events, double now,
                                   EnqueueDone done) {
  // The job owns the message and its events until its transaction has ended.
  struct Owned {
    domain::QueuedMessage message;
    std::vector<domain::NewEvent> events;
  };
  auto owned = std::make_shared<Owned>(Owned{std::move(message), std::move(events)});
  committer_->submit(pg_sending::EnqueueCommitter::Job{&owned->message, &owned->events, now,
                                                       std::move(done), owned});
}

std::vector<domain::QueuedMessage> PgSendingStore::queued(std::int64_t after_id, std::size_t limit,
                                                          std::size_t shard, std::size_t shards,
                                                          double due_by) {
  if (shards == 0) shards = 1;
  std::vector<pg::Param> params;
  std::string sql = "SELECT " + std::string(kMessageColumns) +
                    " FROM messages WHERE state = 0 AND id > " + add_param(params, after_id);
  if (shards > 1) {
    sql += " AND id % " + add_param(params, static_cast<std::int64_t>(shards)) + " = " +
           add_param(params, static_cast<std::int64_t>(shard % shards));
  }
  if (!std::isinf(due_by) || due_by < 0) {
    sql += " AND next_attempt_at <= " + add_param(params, due_by) + "::float8";
  }
  sql += " ORDER BY id LIMIT " + add_param(params, sql_limit(limit));
  return pool_.with_connection(
      [&](pg::Connection& c) { return read_messages(c.query(sql, params)); });
}

std::vector<domain::QueuedMessage> PgSendingStore::claim(std::string_view owner, std::size_t limit,
                                                         std::size_t shard, std::size_t shards,
                                                         double now, double lease_seconds) {
  (void)shard;  // leases split the work between nodes and threads (see the header)
  (void)shards;
  if (limit == 0) return {};
  // SKIP LOCKED passes over rows another claim is taking right now; a row whose claim committed
  // after this statement's snapshot is re-checked on locking (lease_until) and dropped.
  auto claimed = pool_.with_connection([&](pg::Connection& c) {
    return read_messages(c.query(
        "WITH c AS (SELECT id FROM messages WHERE state = 0 AND next_attempt_at <= $1::float8 "
        "AND lease_until <= $1::float8 ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) "
        "UPDATE messages AS m SET lease_owner = $2, lease_until = $1::float8 + $3::float8 "
        "FROM c WHERE m.id = c.id RETURNING m.id, m.message_id, m.configuration_set, "
        "m.recipients, m.mail, m.raw, m.created_at, m.has_virus, m.tags_from_header, "
        "m.remaining, m.attempts",
        {now, owner, lease_seconds, sql_limit(limit)}));
  });
  std::sort(claimed.begin(), claimed.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return claimed;
}

void PgSendingStore::release_claims(std::string_view owner) {
  pool_.with_connection([&](pg::Connection& c) {
    c.run(
        "UPDATE messages SET lease_owner = NULL, lease_until = 0 "
        "WHERE state = 0 AND lease_owner = $1",
        {owner});
  });
}

std::size_t PgSendingStore::complete(const std::vector<Completion>& completions, double now) {
  if (completions.empty()) return 0;
  for (const auto& c : completions) {
    if (!c.suppress.empty() && !put_suppressed_) {
      throw std::logic_error(
          "PgSendingStore: a completion suppresses addresses but the store has no "
          "put_suppressed writer");
    }
  }
  // Deferrals and ids given more than once are applied one statement each, in id order (then
  // input order); every other completion finishes its message in one UPDATE for all of them.
  // A deadlock between nodes completing overlapping sets is retried by with_transaction.
  std::vector<std::size_t> order(completions.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return completions[a].id < completions[b].id;
  });
  std::vector<std::size_t> one_by_one, together;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto& c = completions[order[k]];
    bool repeated = (k > 0 && completions[order[k - 1]].id == c.id) ||
                    (k + 1 < order.size() && completions[order[k + 1]].id == c.id);
    (c.defer || repeated ? one_by_one : together).push_back(order[k]);
  }
  std::string together_ids = "{";
  for (std::size_t i : together) {
    if (together_ids.size() > 1) together_ids += ',';
    together_ids += std::to_string(completions[i].id);
  }
  together_ids += '}';

  return pool_.with_transaction([&](pg::Connection& conn) {
    std::vector<bool> applied(completions.size(), false);
    for (std::size_t i : one_by_one) {
      const auto& c = completions[i];
      if (c.defer) {
        std::string remaining = encode_strings(c.defer->recipients);
        applied[i] = conn.run(
                         "UPDATE messages SET remaining = $2, next_attempt_at = $3, attempts = $4, "
                         "lease_owner = NULL, lease_until = 0 WHERE id = $1 AND state = 0",
                         {c.id, std::string_view(remaining), c.defer->next_attempt_at,
                          std::int64_t{c.defer->attempts}}) > 0;
      } else {
        applied[i] = conn.run(
                         "UPDATE messages SET state = 1, finished_at = $2, lease_owner = NULL, "
                         "lease_until = 0 WHERE id = $1 AND state = 0",
                         {c.id, now}) > 0;
      }
    }
    if (!together.empty()) {
      auto done = conn.query(
          "UPDATE messages SET state = 1, finished_at = $2, lease_owner = NULL, lease_until = 0 "
          "WHERE id = ANY ($1::bigint[]) AND state = 0 RETURNING id",
          {std::string_view(together_ids), now});
      std::vector<std::int64_t> finished;
      for (int r = 0; r < done.rows(); ++r) finished.push_back(done.integer(r, 0));
      std::sort(finished.begin(), finished.end());
      for (std::size_t i : together) {
        applied[i] = std::binary_search(finished.begin(), finished.end(), completions[i].id);
      }
    }
    // A completion whose message was no longer queued (completed elsewhere) applies nothing.
    std::size_t count = 0;
    std::vector<pg_sending::MailboxRow> mailbox;
    std::vector<EventRow> rows;
    for (std::size_t i = 0; i < completions.size(); ++i) {
      if (!applied[i]) continue;
      const auto& c = completions[i];
      ++count;
      for (const auto& x : c.suppress) put_suppressed_(conn, x);
      for (const auto& r : c.mailbox_recipients) {
        mailbox.push_back(pg_sending::MailboxRow{c.message_id, r, now});
      }
      for (const auto& e : c.events) {
        rows.push_back(EventRow{c.message_id, c.configuration_set, &e, now});
      }
    }
    pg_sending::insert_mailbox(conn, mailbox);
    pg_sending::append_events(conn, rows);  // last: holds the event-log lock until COMMIT
    return count;
  });
}

std::vector<domain::LoggedEvent> PgSendingStore::events(const domain::EventFilter& f) {
  // Only the filter's conditions are in the SQL, so the planner walks events_by_message,
  // events_by_set or the primary key as the filter suggests.
  std::vector<pg::Param> params;
  std::string sql =
      "SELECT e.seq, e.message_id, e.configuration_set, e.event_type, e.record, e.created_at, "
      "coalesce(m.tags_from_header, false) FROM events AS e "
      "LEFT JOIN messages AS m ON m.message_id = e.message_id WHERE e.seq > " +
      add_param(params, f.after);
  if (f.message_id)
    sql += " AND e.message_id = " + add_param(params, std::string_view(*f.message_id));
  if (f.configuration_set) {
    sql +=
        " AND e.configuration_set = " + add_param(params, std::string_view(*f.configuration_set));
  }
  if (f.event_type)
    sql += " AND e.event_type = " + add_param(params, std::string_view(*f.event_type));
  sql += " ORDER BY e.seq LIMIT " + add_param(params, sql_limit(f.limit));
  return pool_.with_connection([&](pg::Connection& c) {
    auto r = c.query(sql, params);
    std::vector<domain::LoggedEvent> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      domain::LoggedEvent e;
      e.seq = r.integer(i, 0);
      e.message_id = r.str(i, 1);
      e.configuration_set = r.str(i, 2);
      e.event_type = r.str(i, 3);
      e.record = r.str(i, 4);
      e.created_at = r.real(i, 5);
      e.tags_from_header = r.boolean(i, 6);
      out.push_back(std::move(e));
    }
    return out;
  });
}

namespace {

domain::MailboxEntry read_mailbox(const pg::Result& r, int i) {
  domain::MailboxEntry e;
  e.id = r.integer(i, 0);
  e.message_id = r.str(i, 1);
  e.recipient = r.str(i, 2);
  e.delivered_at = r.real(i, 3);
  e.mail = r.str(i, 4);
  return e;
}

}  // namespace

std::vector<domain::MailboxEntry> PgSendingStore::mailbox(std::optional<std::string> recipient,
                                                          std::size_t limit) {
  std::vector<pg::Param> params;
  std::string sql =
      "SELECT b.id, b.message_id, b.recipient, b.delivered_at, m.mail FROM mailbox AS b "
      "JOIN messages AS m ON m.message_id = b.message_id";
  if (recipient) {
    sql += " WHERE lower(b.recipient) = lower(" + add_param(params, std::string_view(*recipient)) +
           ")";
  }
  sql += " ORDER BY b.id DESC LIMIT " + add_param(params, sql_limit(limit));
  return pool_.with_connection([&](pg::Connection& c) {
    auto r = c.query(sql, params);
    std::vector<domain::MailboxEntry> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_mailbox(r, i));
    return out;
  });
}

std::optional<domain::MailboxEntry> PgSendingStore::mailbox_message(std::string_view message_id) {
  return pool_.with_connection([&](pg::Connection& c) -> std::optional<domain::MailboxEntry> {
    auto r = c.query(
        "SELECT b.id, b.message_id, b.recipient, b.delivered_at, m.mail, m.raw FROM mailbox AS b "
        "JOIN messages AS m ON m.message_id = b.message_id WHERE b.message_id = $1 "
        "ORDER BY b.id LIMIT 1",
        {message_id});
    if (r.empty()) return std::nullopt;
    auto e = read_mailbox(r, 0);
    e.raw = r.bytea(0, 5);
    return e;
  });
}

std::size_t PgSendingStore::queue_depth() {
  // Counts the partial index messages_queued (queued rows only).
  return pool_.with_connection([](pg::Connection& c) {
    return static_cast<std::size_t>(
        c.query("SELECT count(*) FROM messages WHERE state = 0").integer(0, 0));
  });
}

std::optional<std::string> PgSendingStore::raw_message(std::string_view message_id) {
  return pool_.with_connection([&](pg::Connection& c) -> std::optional<std::string> {
    auto r = c.query("SELECT raw FROM messages WHERE message_id = $1", {message_id});
    if (r.empty()) return std::nullopt;
    return r.bytea(0, 0);
  });
}

bool PgSendingStore::append_message_events(std::string_view message_id, const MakeEvents& make,
                                           double now) {
  return pool_.with_transaction([&](pg::Connection& conn) {
    auto m =
        conn.query("SELECT configuration_set, mail, created_at FROM messages WHERE message_id = $1",
                   {message_id});
    if (m.empty()) return false;
    std::string set = m.str(0, 0);
    auto events = make(m.text(0, 1), m.real(0, 2));
    std::vector<EventRow> rows;
    rows.reserve(events.size());
    for (const auto& e : events) rows.push_back(EventRow{message_id, set, &e, now});
    pg_sending::append_events(conn, rows);
    return true;
  });
}

std::string PgSendingStore::server_secret(std::string_view name, std::string_view candidate) {
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != name.npos) {
    throw std::invalid_argument("server_secret: bad name");
  }
  return pool_.with_connection([&](pg::Connection& c) {
    // The first writer of any node wins; everyone then reads the stored value.
    c.run(
        "INSERT INTO server_secrets (name, value, created_at) "
        "VALUES ($1, $2, extract(epoch FROM clock_timestamp())) ON CONFLICT (name) DO NOTHING",
        {name, pg::Bytes{candidate}});
    auto r = c.query("SELECT value FROM server_secrets WHERE name = $1", {name});
    if (r.empty()) throw std::runtime_error("server_secret: the stored secret vanished");
    return r.bytea(0, 0);
  });
}

std::optional<std::int64_t> PgSendingStore::cursor(std::string_view set,
                                                   std::string_view destination) {
  return pool_.with_connection([&](pg::Connection& c) -> std::optional<std::int64_t> {
    auto r = c.query(
        "SELECT last_seq FROM event_cursors WHERE configuration_set = $1 AND destination = $2",
        {set, destination});
    if (r.empty()) return std::nullopt;
    return r.integer(0, 0);
  });
}

void PgSendingStore::advance_cursor(std::string_view set, std::string_view destination,
                                    std::int64_t seq) {
  pool_.with_connection([&](pg::Connection& c) {
    c.run(
        "INSERT INTO event_cursors (configuration_set, destination, last_seq) "
        "VALUES ($1, $2, $3) ON CONFLICT (configuration_set, destination) DO UPDATE SET "
        "last_seq = GREATEST(event_cursors.last_seq, excluded.last_seq)",
        {set, destination, seq});
  });
}

}  // namespace mailtally::storage
