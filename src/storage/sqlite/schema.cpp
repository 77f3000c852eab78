#include "storage/sqlite/schema.hpp"

#include <array>
#include <stdexcept>
#include <string>

namespace mailtally::storage::sqlite {

namespace {

// Migration i brings the schema from version i to version i + 1. Append only.
constexpr std::array kMigrations = {
    // 1: initial schema. JSON columns are written by json_codec; REAL columns hold epoch
    // seconds (kept out of JSON so doubles round-trip bit-exactly).
    R"sql(
CREATE TABLE configuration_sets (
  name TEXT NOT NULL PRIMARY KEY,
  record TEXT NOT NULL,            -- JSON: options and tags
  last_fresh_start REAL,           -- NULL when not set
  created_at REAL NOT NULL
) STRICT;

CREATE TABLE event_destinations (
  configuration_set TEXT NOT NULL REFERENCES configuration_sets (name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  position INTEGER NOT NULL,       -- creation order within the set, from 0
  definition TEXT NOT NULL,        -- JSON: everything but the name
  PRIMARY KEY (configuration_set, name)
) STRICT;

CREATE TABLE identities (
  name TEXT NOT NULL PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('EmailAddress', 'Domain')),
  status TEXT NOT NULL
    CHECK (status IN ('Pending', 'Success', 'Failed', 'TemporaryFailure', 'NotStarted')),
  token TEXT NOT NULL,
  default_configuration_set TEXT,  -- NULL when not set; deliberately no foreign key
  tags TEXT NOT NULL,              -- JSON array of {"key","value"}
  created_at REAL NOT NULL
) STRICT;
CREATE INDEX identities_by_type ON identities (type, name);

CREATE TABLE access_keys (
  access_key_id TEXT NOT NULL PRIMARY KEY,
  secret TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at REAL NOT NULL
) STRICT;
)sql",
    // 2: the sending pipeline (storage/sqlite/sending_store.cpp). `messages` is the durable
    // queue (state 0 queued, 1 done) and keeps each message's raw bytes for the mailbox;
    // `events` is the append-only SES event log; `mailbox` lists built-in mailbox deliveries;
    // `event_cursors` holds each event destination's last applied event seq (the row ('', '')
    // is the dispatcher's own read position).
    R"sql(
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL UNIQUE,
  state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),
  configuration_set TEXT NOT NULL,  -- '' when none
  recipients TEXT NOT NULL,         -- JSON array of envelope recipients
  mail TEXT NOT NULL,               -- JSON: the event records' `mail` object
  raw TEXT NOT NULL,                -- the delivered message (bytes, bound as text)
  has_virus INTEGER NOT NULL,
  tags_from_header INTEGER NOT NULL,
  created_at REAL NOT NULL,
  finished_at REAL
) STRICT;
CREATE INDEX messages_queued ON messages (id) WHERE state = 0;

CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL,
  configuration_set TEXT NOT NULL,  -- '' when none
  event_type TEXT NOT NULL,
  record TEXT NOT NULL,             -- JSON: the SES event record
  created_at REAL NOT NULL
) STRICT;
CREATE INDEX events_by_message ON events (message_id, seq);
CREATE INDEX events_by_set ON events (configuration_set, seq);

CREATE TABLE mailbox (
  id INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL,
  recipient TEXT NOT NULL,
  delivered_at REAL NOT NULL
) STRICT;
CREATE INDEX mailbox_by_recipient ON mailbox (recipient, id);
CREATE INDEX mailbox_by_message ON mailbox (message_id);

CREATE TABLE event_cursors (
  configuration_set TEXT NOT NULL,
  destination TEXT NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY (configuration_set, destination)
) STRICT;
)sql",
    // 3: email templates (storage/sqlite/template_store.cpp), shared by SES v1 and v2. NULL
    // parts were not given.
    R"sql(
CREATE TABLE email_templates (
  name TEXT NOT NULL PRIMARY KEY,
  subject TEXT,
  text TEXT,
  html TEXT,
  created_at REAL NOT NULL
) STRICT;
)sql",
    // 4: relay retries and the account suppression list. A queued message deferred by the SMTP
    // relay keeps only its `remaining` recipients (JSON array; NULL: all, never deferred), the
    // count of deferred `attempts`, and is not due before `next_attempt_at` (epoch seconds).
    // `suppressed_destinations` is the SES v2 account suppression list
    // (storage/sqlite/suppression_store.cpp); `account_suppression` its one settings row.
    R"sql(
ALTER TABLE messages ADD COLUMN remaining TEXT;
ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN next_attempt_at REAL NOT NULL DEFAULT 0;

CREATE TABLE suppressed_destinations (
  email_address TEXT NOT NULL,
  email_key TEXT NOT NULL PRIMARY KEY,  -- lower(email_address): the list is case-insensitive
  reason TEXT NOT NULL CHECK (reason IN ('BOUNCE', 'COMPLAINT')),
  last_update REAL NOT NULL,
  message_id TEXT NOT NULL,             -- '' when put by the API
  feedback_id TEXT NOT NULL
) STRICT;
CREATE INDEX suppressed_by_update ON suppressed_destinations (last_update);

CREATE TABLE account_suppression (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  reasons TEXT NOT NULL  -- JSON array of BOUNCE / COMPLAINT
) STRICT;
)sql",
    // 5: server secrets (hex text), created once at first start and shared by every node using
    // the database: "tracking" signs the open/click tracking tokens.
    R"sql(
CREATE TABLE server_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at REAL NOT NULL
) STRICT;
)sql",
    // 6: event destinations and sending statistics (storage/sqlite/destinations_store.cpp).
    // `sns_topics` / `sns_subscriptions` hold the SNS subset's topics and http(s) subscribers;
    // `send_statistics` counts recipients per 15-minute interval, folded in from the event log
    // behind the event_cursors row ('', 'send-statistics') — off the send path, since the log
    // is the record and a counter update per event would halve the event insert rate.
    R"sql(
CREATE TABLE sns_topics (
  arn TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  display_name TEXT NOT NULL,
  created_at REAL NOT NULL
) STRICT;

CREATE TABLE sns_subscriptions (
  arn TEXT NOT NULL PRIMARY KEY,
  topic_arn TEXT NOT NULL REFERENCES sns_topics (arn) ON DELETE CASCADE,
  protocol TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  token TEXT NOT NULL,
  confirmed INTEGER NOT NULL,
  created_at REAL NOT NULL,
  UNIQUE (topic_arn, protocol, endpoint)
) STRICT;

CREATE TABLE send_statistics (
  bucket INTEGER PRIMARY KEY,       -- epoch seconds of the 15-minute interval's start
  delivery_attempts INTEGER NOT NULL,
  bounces INTEGER NOT NULL,
  complaints INTEGER NOT NULL,
  rejects INTEGER NOT NULL
) STRICT;
)sql",
    // 7: how far the intake log (storage/intake/log.hpp) was indexed into these tables.
    R"sql(
CREATE TABLE intake_position (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  segment INTEGER NOT NULL,
  byte_offset INTEGER NOT NULL
) STRICT;
)sql",
};

[[noreturn]] void refuse(const std::string& why) {
  throw std::runtime_error("sqlite store: " + why);
}

void check_compatible(Connection& conn) {
  std::int64_t app = conn.query_int("PRAGMA application_id");
  std::int64_t version = conn.query_int("PRAGMA user_version");
  if (app != 0 && app != kApplicationId) {
    refuse("the database belongs to another application (application_id " + std::to_string(app) +
           "); refusing to open it");
  }
  if (version > latest_schema_version()) {
    refuse("the database has schema version " + std::to_string(version) +
           ", newer than the latest this build knows (" + std::to_string(latest_schema_version()) +
           "); refusing to open it (upgrade mailtally or use another file)");
  }
  if (version == 0 && conn.query_int("SELECT count(*) FROM sqlite_schema") != 0) {
    refuse("the database already has tables but no mailtally schema; refusing to open it");
  }
}

}  // namespace

std::int64_t latest_schema_version() { return static_cast<std::int64_t>(kMigrations.size()); }

void configure_connection(Connection& conn, bool full_sync) {
  conn.exec("PRAGMA busy_timeout = 5000");
  conn.exec("PRAGMA foreign_keys = ON");
  // NORMAL in WAL mode: a commit is written to the WAL (the OS page cache) before the call
  // returns, so it survives the process being killed; only power loss / kernel crash can lose
  // the last commits. FULL also fsyncs the WAL at each commit.
  conn.exec(full_sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  conn.exec("PRAGMA journal_size_limit = 67108864");  // truncate a large WAL after checkpoints
  // The sending store's Checkpointer checkpoints in the background; a commit checkpoints
  // itself only when the WAL grew past 8000 pages (~32 MB) anyway (a backstop).
  conn.exec("PRAGMA wal_autocheckpoint = 8000");
}

void migrate(Connection& conn) {
  check_compatible(conn);  // before WAL: do not change a file we will not use
  if (conn.query_text("PRAGMA journal_mode = WAL") != "wal") {
    refuse("cannot switch the database to WAL mode");
  }
  for (std::size_t step = 0; step < kMigrations.size(); ++step) {
    if (conn.query_int("PRAGMA user_version") > static_cast<std::int64_t>(step)) continue;
    Transaction tx(conn);
    // Re-check under the write lock: another process may have migrated meanwhile.
    check_compatible(conn);
    if (conn.query_int("PRAGMA user_version") > static_cast<std::int64_t>(step)) continue;
    conn.exec(kMigrations[step]);
    std::string bump = "PRAGMA user_version = " + std::to_string(step + 1);
    conn.exec(bump.c_str());
    if (step == 0) conn.exec(("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
    tx.commit();
  }
}

}  // namespace mailtally::storage::sqlite
