// PgMetricStore as the PublishingLedger: ownership, drop diagnostics, coverage and caps, in
// tables of the metrics component written in the datapoints' transaction. Text is ordered
// byte-wise (COLLATE "C"), as the SQLite store orders it, whatever the database's collation.
#include <algorithm>

#include "metrics/catalogue.hpp"
#include "metrics/pg_metric_sql.hpp"
#include "metrics/pg_metric_store.hpp"

namespace mailtally::metrics {
namespace {

// Examples kept per owner and reason (as metrics/ledger_statements.hpp).
constexpr std::int64_t kDropExamplesKept = 10;

// Series in the order the SQLite catalogue lists them: by metric (creation order), then by
// series (creation order).
constexpr std::string_view kSeriesInListOrder =
    "SELECT m.namespace, m.name, m.dimensions, s.unit FROM metric_series s "
    "JOIN metric_metrics m ON m.id = s.metric WHERE ($1::text IS NULL OR m.namespace = $1) "
    "AND ($2::text IS NULL OR m.name = $2) ORDER BY m.id, s.id";

}  // namespace

namespace pgsql {

void write_ledger(pg::Connection& c, const LedgerWrite& l, const std::vector<std::int64_t>& ids) {
  std::vector<std::int64_t> claims;
  for (std::size_t i : l.claims) {
    if (i < ids.size()) claims.push_back(ids[i]);
  }
  std::sort(claims.begin(), claims.end());
  claims.erase(std::unique(claims.begin(), claims.end()), claims.end());
  if (!claims.empty()) {
    c.run(
        "INSERT INTO metric_series_owners (owner, series) SELECT $1, s FROM "
        "unnest($2::bigint[]) AS u(s) ORDER BY s ON CONFLICT DO NOTHING",
        {l.owner, int_array(claims)});
  }
  std::vector<const std::string*> reasons;
  for (const auto& d : l.drops) {
    c.run(
        "INSERT INTO metric_drop_counts (owner, reason, count, last_at) VALUES ($1, $2, 1, $3) "
        "ON CONFLICT (owner, reason) DO UPDATE SET count = metric_drop_counts.count + 1, "
        "last_at = GREATEST(metric_drop_counts.last_at, excluded.last_at)",
        {l.owner, d.reason, d.at});
    c.run(
        "INSERT INTO metric_drop_examples (owner, reason, seq, message_id, dimension, at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (owner, reason, seq) DO UPDATE SET "
        "message_id = excluded.message_id, dimension = excluded.dimension, at = excluded.at",
        {l.owner, d.reason, d.seq, d.message_id, d.dimension, d.at});
    if (std::none_of(reasons.begin(), reasons.end(), [&](auto* r) { return *r == d.reason; })) {
      reasons.push_back(&d.reason);
    }
  }
  for (const std::string* r : reasons) {
    c.run(
        "DELETE FROM metric_drop_examples WHERE owner = $1 AND reason = $2 AND seq < "
        "(SELECT seq FROM metric_drop_examples WHERE owner = $1 AND reason = $2 "
        "ORDER BY seq DESC LIMIT 1 OFFSET $3 - 1)",
        {l.owner, *r, kDropExamplesKept});
  }
  auto insert_coverage = [&](const SeqRange& r, bool replay) {
    c.run(
        "INSERT INTO metric_coverage (owner, fingerprint, seq_after, seq_last, replay) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner, fingerprint, seq_after, replay) "
        "DO UPDATE SET seq_last = GREATEST(metric_coverage.seq_last, excluded.seq_last)",
        {l.owner, l.fingerprint, r.after, r.last, replay});
  };
  if (l.live) {
    // Extends the live range that ends where this one starts, else starts a new one.
    const std::int64_t extended = c.run(
        "UPDATE metric_coverage SET seq_last = $4 WHERE owner = $1 AND fingerprint = $2 "
        "AND NOT replay AND seq_last = $3",
        {l.owner, l.fingerprint, l.live->after, l.live->last});
    if (extended == 0) insert_coverage(*l.live, false);
  }
  for (const auto& r : l.replayed) insert_coverage(r, true);
}

}  // namespace pgsql

std::vector<bool> PgMetricStore::claimed(std::string_view owner,
                                         const std::vector<SeriesKey>& keys) const {
  std::vector<bool> out(keys.size(), false);
  if (keys.empty()) return out;
  std::vector<std::string> ns, name, dims, unit;
  for (const auto& k : keys) {
    MetricKey m = k.metric;
    normalize(m);
    ns.push_back(m.ns);
    name.push_back(m.name);
    dims.push_back(encode_dimensions(m.dimensions));
    unit.push_back(k.unit);
  }
  pg::Result r = pool_.with_connection([&](pg::Connection& c) {
    return c.query(
        "SELECT u.i FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
        "WITH ORDINALITY AS u(ns, nm, dims, unit, i) JOIN metric_metrics m ON m.namespace = u.ns "
        "AND m.name = u.nm AND m.dimensions = u.dims "
        "JOIN metric_series s ON s.metric = m.id AND s.unit = u.unit "
        "JOIN metric_series_owners o ON o.series = s.id AND o.owner = $5",
        {pgsql::text_array(ns), pgsql::text_array(name), pgsql::text_array(dims),
         pgsql::text_array(unit), owner});
  });
  for (int i = 0; i < r.rows(); ++i) out[static_cast<std::size_t>(r.integer(i, 0) - 1)] = true;
  return out;
}

std::vector<SeriesKey> PgMetricStore::owned_series(std::string_view owner) const {
  pg::Result r = pool_.with_connection([&](pg::Connection& c) {
    return c.query(
        "SELECT m.namespace, m.name, m.dimensions, s.unit FROM metric_series_owners o "
        "JOIN metric_series s ON s.id = o.series JOIN metric_metrics m ON m.id = s.metric "
        "WHERE o.owner = $1 ORDER BY s.id",
        {owner});
  });
  std::vector<SeriesKey> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(pgsql::series_key(r, i, 0));
  return out;
}

std::vector<std::string> PgMetricStore::owners() const {
  pg::Result r = pool_.with_connection([](pg::Connection& c) {
    return c.query("SELECT DISTINCT owner COLLATE \"C\" AS o FROM metric_series_owners ORDER BY o");
  });
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
  return out;
}

std::vector<DropCount> PgMetricStore::drop_counts() const {
  pg::Result r = pool_.with_connection([](pg::Connection& c) {
    return c.query(
        "SELECT owner, reason, count, last_at FROM metric_drop_counts "
        "ORDER BY owner COLLATE \"C\", reason COLLATE \"C\"");
  });
  std::vector<DropCount> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.str(i, 0), r.str(i, 1), r.integer(i, 2), r.real(i, 3)});
  }
  return out;
}

std::vector<DropNote> PgMetricStore::drop_examples(std::string_view owner, std::string_view reason,
                                                   std::size_t limit) const {
  pg::Result r = pool_.with_connection([&](pg::Connection& c) {
    return c.query(
        "SELECT seq, message_id, dimension, at FROM metric_drop_examples WHERE owner = $1 "
        "AND reason = $2 ORDER BY seq DESC LIMIT $3",
        {owner, reason, static_cast<std::int64_t>(limit)});
  });
  std::vector<DropNote> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(reason), r.integer(i, 0), r.str(i, 1), r.str(i, 2), r.real(i, 3)});
  }
  return out;
}

std::vector<SeqRange> PgMetricStore::coverage(std::string_view owner,
                                              std::string_view fingerprint) const {
  pg::Result r = pool_.with_connection([&](pg::Connection& c) {
    return c.query(
        "SELECT seq_after, seq_last FROM metric_coverage WHERE owner = $1 AND fingerprint = $2 "
        "ORDER BY seq_after, replay",
        {owner, fingerprint});
  });
  std::vector<SeqRange> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.integer(i, 0), r.integer(i, 1)});
  return out;
}

void PgMetricStore::set_cap(std::string_view owner, std::optional<std::int64_t> cap) {
  pool_.with_connection([&](pg::Connection& c) {
    if (cap) {
      c.run(
          "INSERT INTO metric_series_caps (owner, cap) VALUES ($1, $2) "
          "ON CONFLICT (owner) DO UPDATE SET cap = excluded.cap",
          {owner, *cap});
    } else {
      c.run("DELETE FROM metric_series_caps WHERE owner = $1", {owner});
    }
  });
}

std::vector<std::pair<std::string, std::int64_t>> PgMetricStore::caps() const {
  pg::Result r = pool_.with_connection([](pg::Connection& c) {
    return c.query("SELECT owner, cap FROM metric_series_caps ORDER BY owner COLLATE \"C\"");
  });
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.str(i, 0), r.integer(i, 1));
  return out;
}

std::vector<SeriesKey> PgMetricStore::series_named(std::string_view ns,
                                                   std::string_view name) const {
  pg::Result r = pool_.with_connection([&](pg::Connection& c) {
    return c.query(kSeriesInListOrder, {ns, name});
  });
  std::vector<SeriesKey> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(pgsql::series_key(r, i, 0));
  return out;
}

std::vector<SeriesKey> PgMetricStore::all_series() const {
  pg::Result r = pool_.with_connection([&](pg::Connection& c) {
    return c.query(kSeriesInListOrder, {nullptr, nullptr});
  });
  std::vector<SeriesKey> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(pgsql::series_key(r, i, 0));
  return out;
}

}  // namespace mailtally::metrics
