#include "storage/postgres/destinations_store.hpp"

#include <stdexcept>

#include "storage/postgres/sql_util.hpp"

namespace mailtally::storage {

namespace {

// Step i brings the component from version i to i + 1. Append only.
const std::vector<const char*> kMigrations = {
    // 1: as SQLite's migration 6. The fold's cursor is the row ('', 'send-statistics') of
    // event_cursors (the sending component's table), as in SQLite, so copy-to-postgres carries
    // it over with the events and the counts already folded.
    R"sql(
CREATE TABLE sns_topics (
  arn TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  display_name TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE sns_subscriptions (
  arn TEXT COLLATE "C" PRIMARY KEY,
  topic_arn TEXT COLLATE "C" NOT NULL REFERENCES sns_topics (arn) ON DELETE CASCADE,
  protocol TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  token TEXT NOT NULL,
  confirmed BOOLEAN NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  UNIQUE (topic_arn, protocol, endpoint)
);
CREATE TABLE send_statistics (
  bucket BIGINT PRIMARY KEY,        -- epoch seconds of the 15-minute interval's start
  delivery_attempts BIGINT NOT NULL,
  bounces BIGINT NOT NULL,
  complaints BIGINT NOT NULL,
  rejects BIGINT NOT NULL
);
)sql",
};

constexpr std::string_view kTopicColumns = "SELECT arn, name, display_name, created_at ";
constexpr std::string_view kSubscriptionColumns =
    "arn, topic_arn, protocol, endpoint, token, confirmed, created_at";

domain::SnsTopic read_topic(const pg::Result& r, int i) {
  return {r.str(i, 0), r.str(i, 1), r.str(i, 2), r.real(i, 3)};
}

domain::SnsSubscription read_subscription(const pg::Result& r, int i) {
  domain::SnsSubscription out;
  out.arn = r.str(i, 0);
  out.topic_arn = r.str(i, 1);
  out.protocol = r.str(i, 2);
  out.endpoint = r.str(i, 3);
  out.token = r.str(i, 4);
  out.confirmed = r.boolean(i, 5);
  out.created_at = r.real(i, 6);
  return out;
}

// The number of recipients in the JSON array at `path` of the record `r` (json), 0 when the
// path is missing or not an array (as SQLite's coalesce(json_array_length(...), 0)).
#define MAILTALLY_RECIPIENTS(path)                                                             \
  "coalesce(CASE json_typeof(r #> '" path "') WHEN 'array' THEN json_array_length(r #> '" path \
  "') END, 0)"

// Events with seq in ($1, $2] counted into their 15-minute interval, recipients each, added to
// what the intervals already hold. PostgreSQL's JSON operators refuse the escape \u0000 (a NUL
// in a subject or tag): it is replaced by another escape first, which keeps the JSON valid and
// its arrays as they were (also where the backslash was itself escaped).
constexpr std::string_view kFold =
    "INSERT INTO send_statistics (bucket, delivery_attempts, bounces, complaints, rejects) "
    "SELECT (trunc(created_at / 900) * 900)::bigint, "
    "sum(CASE event_type WHEN 'Send' THEN " MAILTALLY_RECIPIENTS("{mail,destination}") " ELSE 0 END), "
    "sum(CASE event_type WHEN 'Bounce' THEN " MAILTALLY_RECIPIENTS("{bounce,bouncedRecipients}") " ELSE 0 END), "
    "sum(CASE event_type WHEN 'Complaint' THEN " MAILTALLY_RECIPIENTS("{complaint,complainedRecipients}") " ELSE 0 END), "
    "sum(CASE event_type WHEN 'Reject' THEN " MAILTALLY_RECIPIENTS("{mail,destination}") " ELSE 0 END) "
    "FROM (SELECT created_at, event_type, replace(record, '\\u0000', '\\ufffd')::json AS r "
    "FROM events "
    "WHERE seq > $1 AND seq <= $2 AND event_type IN ('Send', 'Bounce', 'Complaint', 'Reject')) e "
    "GROUP BY 1 ON CONFLICT (bucket) DO UPDATE SET "
    "delivery_attempts = send_statistics.delivery_attempts + excluded.delivery_attempts, "
    "bounces = send_statistics.bounces + excluded.bounces, "
    "complaints = send_statistics.complaints + excluded.complaints, "
    "rejects = send_statistics.rejects + excluded.rejects";
#undef MAILTALLY_RECIPIENTS

}  // namespace

std::unique_ptr<PgDestinationsStore> PgDestinationsStore::open(pg::Pool& pool) {
  pg::migrate(pool, "destinations", kMigrations);
  return std::unique_ptr<PgDestinationsStore>(new PgDestinationsStore(pool));
}

// ---- SNS topics and subscriptions ----

domain::SnsTopic PgDestinationsStore::create_topic(const domain::SnsTopic& t) {
  return pool_.with_transaction([&](pg::Connection& conn) {
    // On a conflict with a concurrent create, the insert waits for it and does nothing; the
    // select (a fresh snapshot) then reads the row that won.
    conn.run(
        "INSERT INTO sns_topics (arn, name, display_name, created_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (arn) DO NOTHING",
        {t.arn, t.name, t.display_name, t.created_at});
    auto r = conn.query(std::string(kTopicColumns) + "FROM sns_topics WHERE arn = $1", {t.arn});
    if (r.empty()) throw std::runtime_error("destinations store: topic vanished");
    return read_topic(r, 0);
  });
}

std::optional<domain::SnsTopic> PgDestinationsStore::get_topic(std::string_view arn) {
  return pool_.with_connection([&](pg::Connection& conn) -> std::optional<domain::SnsTopic> {
    auto r = conn.query(std::string(kTopicColumns) + "FROM sns_topics WHERE arn = $1", {arn});
    if (r.empty()) return std::nullopt;
    return read_topic(r, 0);
  });
}

bool PgDestinationsStore::delete_topic(std::string_view arn) {
  // Its subscriptions go with it (ON DELETE CASCADE).
  return pool_.with_connection([&](pg::Connection& conn) {
    return conn.run("DELETE FROM sns_topics WHERE arn = $1", {arn}) > 0;
  });
}

std::vector<domain::SnsTopic> PgDestinationsStore::list_topics() {
  std::vector<domain::SnsTopic> out;
  pool_.with_connection([&](pg::Connection& conn) {
    auto r = conn.query(std::string(kTopicColumns) + "FROM sns_topics ORDER BY created_at, arn");
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_topic(r, i));
  });
  return out;
}

domain::SnsSubscription PgDestinationsStore::subscribe(const domain::SnsSubscription& sub) {
  return pool_.with_transaction([&](pg::Connection& conn) {
    conn.run("INSERT INTO sns_subscriptions (" + std::string(kSubscriptionColumns) +
                 ") VALUES ($1, $2, $3, $4, $5, $6, $7) "
                 "ON CONFLICT (topic_arn, protocol, endpoint) DO NOTHING",
             {sub.arn, sub.topic_arn, sub.protocol, sub.endpoint, sub.token, sub.confirmed,
              sub.created_at});
    auto r = conn.query("SELECT " + std::string(kSubscriptionColumns) +
                            " FROM sns_subscriptions WHERE topic_arn = $1 AND protocol = $2 "
                            "AND endpoint = $3",
                        {sub.topic_arn, sub.protocol, sub.endpoint});
    if (r.empty()) throw std::runtime_error("destinations store: subscription vanished");
    return read_subscription(r, 0);
  });
}

bool PgDestinationsStore::unsubscribe(std::string_view arn) {
  return pool_.with_connection([&](pg::Connection& conn) {
    return conn.run("DELETE FROM sns_subscriptions WHERE arn = $1", {arn}) > 0;
  });
}

std::vector<domain::SnsSubscription> PgDestinationsStore::subscriptions(
    std::string_view topic_arn) {
  std::vector<domain::SnsSubscription> out;
  pool_.with_connection([&](pg::Connection& conn) {
    auto r = conn.query("SELECT " + std::string(kSubscriptionColumns) +
                            " FROM sns_subscriptions WHERE $1 = '' OR topic_arn = $1 "
                            "ORDER BY created_at, arn",
                        {topic_arn});
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_subscription(r, i));
  });
  return out;
}

std::optional<domain::SnsSubscription> PgDestinationsStore::confirm(std::string_view topic_arn,
                                                                    std::string_view token) {
  return pool_.with_connection([&](pg::Connection& conn) -> std::optional<domain::SnsSubscription> {
    auto r = conn.query(
        "UPDATE sns_subscriptions SET confirmed = true WHERE topic_arn = $1 AND token = $2 "
        "RETURNING " +
            std::string(kSubscriptionColumns),
        {topic_arn, token});
    if (r.empty()) return std::nullopt;
    return read_subscription(r, 0);
  });
}

// ---- sending statistics ----

std::size_t PgDestinationsStore::fold_send_statistics(std::size_t max_events) {
  return pool_.with_transaction([&](pg::Connection& conn) -> std::size_t {
    // The cursor row exists from the first fold on (a concurrent first insert waits for the
    // other and does nothing). Its lock makes concurrent folds (any node) take turns; the one
    // that waited reads the cursor as the other committed it (READ COMMITTED re-reads a locked
    // row's newest version).
    conn.run(
        "INSERT INTO event_cursors (configuration_set, destination, last_seq) "
        "VALUES ('', 'send-statistics', 0) ON CONFLICT (configuration_set, destination) DO "
        "NOTHING");
    std::int64_t from = conn.query(
                                "SELECT last_seq FROM event_cursors WHERE configuration_set = '' "
                                "AND destination = 'send-statistics' FOR UPDATE")
                            .integer(0, 0);
    auto end = conn.query(
        "SELECT max(seq), count(*) FROM (SELECT seq FROM events WHERE seq > $1 "
        "ORDER BY seq LIMIT $2) e",
        {from, pgsql::to_sql_limit(max_events)});
    auto folded = end.integer(0, 1);
    if (folded == 0) return 0;
    std::int64_t to = end.integer(0, 0);
    conn.run(kFold, {from, to});
    conn.run(
        "UPDATE event_cursors SET last_seq = $1 WHERE configuration_set = '' "
        "AND destination = 'send-statistics'",
        {to});
    return static_cast<std::size_t>(folded);
  });
}

std::vector<domain::SendDataPoint> PgDestinationsStore::send_statistics(std::int64_t since) {
  std::vector<domain::SendDataPoint> out;
  pool_.with_connection([&](pg::Connection& conn) {
    auto r = conn.query(
        "SELECT bucket, delivery_attempts, bounces, complaints, rejects FROM send_statistics "
        "WHERE bucket >= $1 ORDER BY bucket",
        {since});
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(
          {r.integer(i, 0), r.integer(i, 1), r.integer(i, 2), r.integer(i, 3), r.integer(i, 4)});
    }
  });
  return out;
}

}  // namespace mailtally::storage
