// PgMetricStore: opening and writing (put, put_published). Reads, compaction and the ledger's
// reads are in pg_metric_store_read.cpp, pg_metric_store_compact.cpp, pg_metric_store_ledger.cpp.
#include "metrics/pg_metric_store.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "metrics/catalogue.hpp"
#include "metrics/pg_metric_sql.hpp"
#include "metrics/store_support.hpp"

namespace mailtally::metrics {
namespace {

// A series' last_put is written at most once a minute (ListMetrics' windows are hours and
// weeks), so hot series are not rewritten by every put.
constexpr std::int64_t kTouchInterval = 60;

// Per key of the batch: its metric (id, last_put) and series (id, last_put; NULL when the
// metric exists without that unit). Keys whose metric is missing return no row.
constexpr std::string_view kSelectSeries =
    "SELECT u.i, m.id, m.last_put, s.id, s.last_put FROM unnest($1::text[], $2::text[], "
    "$3::text[], $4::text[]) WITH ORDINALITY AS u(ns, nm, dims, unit, i) JOIN metric_metrics m "
    "ON m.namespace = u.ns AND m.name = u.nm AND m.dimensions = u.dims "
    "LEFT JOIN metric_series s ON s.metric = m.id AND s.unit = u.unit";

// New metrics and series: ids drawn in batch order (creation order, as the SQLite store numbers
// them), rows inserted in key order (two nodes creating the same ones wait for each other in
// the same order); a row another transaction inserted meanwhile is left alone (its id unused).
constexpr std::string_view kInsertMetrics =
    "INSERT INTO metric_metrics (id, namespace, name, dimensions, dim_names, dim_pairs, "
    "last_put) SELECT id, ns, nm, dims, string_to_array(names, chr(31)), "
    "string_to_array(rtrim(dims, chr(31)), chr(31)), $5 FROM (SELECT "
    "nextval(pg_get_serial_sequence('metric_metrics', 'id')) AS id, ns, nm, dims, names "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY "
    "AS u(ns, nm, dims, names, i) ORDER BY i) AS n "
    "ORDER BY ns, nm, dims ON CONFLICT (namespace, name, dimensions) DO NOTHING";
constexpr std::string_view kInsertSeries =
    "INSERT INTO metric_series (id, metric, unit, last_put) SELECT id, m, unit, $3 FROM "
    "(SELECT nextval(pg_get_serial_sequence('metric_series', 'id')) AS id, m, unit FROM "
    "unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS u(m, unit, i) ORDER BY i) AS n "
    "ORDER BY m, unit ON CONFLICT (metric, unit) DO NOTHING";

// The series of one batch, as array parameters.
struct SeriesBatch {
  std::vector<std::string> ns, name, dims, unit, names;
  std::size_t size() const { return ns.size(); }
};

// Unique ids, for touching each row once.
std::vector<std::int64_t> distinct(std::vector<std::int64_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// The id of every series of `batch` (index-aligned), creating the missing metrics and series;
// refreshes last_put of those not touched for a minute.
std::vector<std::int64_t> resolve_series(pg::Connection& c, const SeriesBatch& batch,
                                         std::int64_t now) {
  std::vector<std::int64_t> ids(batch.size(), 0);
  std::vector<std::int64_t> metric_ids(batch.size(), 0);
  std::vector<std::int64_t> stale_metrics, stale_series;
  auto select = [&] {
    pg::Result r =
        c.query(kSelectSeries, {pgsql::text_array(batch.ns), pgsql::text_array(batch.name),
                                pgsql::text_array(batch.dims), pgsql::text_array(batch.unit)});
    stale_metrics.clear();
    stale_series.clear();
    std::size_t complete = 0;
    for (int i = 0; i < r.rows(); ++i) {
      const auto at = static_cast<std::size_t>(r.integer(i, 0) - 1);
      metric_ids[at] = r.integer(i, 1);
      if (r.integer(i, 2) <= now - kTouchInterval) stale_metrics.push_back(metric_ids[at]);
      if (r.is_null(i, 3)) continue;
      ids[at] = r.integer(i, 3);
      if (r.integer(i, 4) <= now - kTouchInterval) stale_series.push_back(ids[at]);
      ++complete;
    }
    return complete == batch.size();
  };
  if (!select()) {
    std::set<std::tuple<std::string_view, std::string_view, std::string_view>> seen;
    SeriesBatch metrics;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (metric_ids[i] != 0 || !seen.emplace(batch.ns[i], batch.name[i], batch.dims[i]).second) {
        continue;
      }
      metrics.ns.push_back(batch.ns[i]);
      metrics.name.push_back(batch.name[i]);
      metrics.dims.push_back(batch.dims[i]);
      metrics.names.push_back(batch.names[i]);
    }
    if (metrics.size() > 0) {
      c.run(kInsertMetrics,
            {pgsql::text_array(metrics.ns), pgsql::text_array(metrics.name),
             pgsql::text_array(metrics.dims), pgsql::text_array(metrics.names), now});
      select();
    }
    std::vector<std::int64_t> owner;
    std::vector<std::string> unit;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (ids[i] != 0 || metric_ids[i] == 0) continue;
      owner.push_back(metric_ids[i]);
      unit.push_back(batch.unit[i]);
    }
    if (!owner.empty()) {
      c.run(kInsertSeries, {pgsql::int_array(owner), pgsql::text_array(unit), now});
    }
    // Only an expiry racing with this put can remove a row just seen: run it again.
    if (!select()) throw pg::Error("metrics store: a series vanished mid-put", "40001");
  }
  // Locks those rows: an expiry (compact) either waits for this put or has already removed
  // them, and this put must then re-create them.
  auto touch = [&](const char* sql, const std::vector<std::int64_t>& stale) {
    if (stale.empty()) return;
    const std::vector<std::int64_t> rows = distinct(stale);
    if (c.run(sql, {now, pgsql::int_array(rows)}) < static_cast<std::int64_t>(rows.size())) {
      throw pg::Error("metrics store: a series expired mid-put", "40001");
    }
  };
  touch("UPDATE metric_metrics SET last_put = GREATEST(last_put, $1) WHERE id = ANY($2)",
        stale_metrics);
  touch("UPDATE metric_series SET last_put = GREATEST(last_put, $1) WHERE id = ANY($2)",
        stale_series);
  return ids;
}

}  // namespace

std::unique_ptr<PgMetricStore> PgMetricStore::open(pg::Pool& pool, const base::Clock& clock) {
  pg::migrate(pool, "metrics", pgsql::migrations());
  return std::unique_ptr<PgMetricStore>(new PgMetricStore(pool, clock));
}

std::int64_t PgMetricStore::now_seconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
}

void PgMetricStore::put(const std::vector<Datum>& data) { put_batch(data, nullptr, nullptr); }

void PgMetricStore::put(const std::vector<Datum>& data, const CursorAdvance& advance) {
  put_batch(data, &advance, nullptr);
}

void PgMetricStore::put_published(const std::vector<Datum>& data, const CursorAdvance* advance,
                                  const LedgerWrite& ledger) {
  put_batch(data, advance, &ledger);
}

void PgMetricStore::put_batch(const std::vector<Datum>& data, const CursorAdvance* advance,
                              const LedgerWrite* ledger) {
  support::validate(data);
  if (data.empty() && advance == nullptr && ledger == nullptr) return;
  const std::int64_t now = now_seconds();

  // Distinct series of the batch, and datum -> series index.
  SeriesBatch batch;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::size_t> series_of(data.size());
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (i > 0 && data[i].series == data[i - 1].series) {
      series_of[i] = series_of[i - 1];
      continue;
    }
    MetricKey key = data[i].series.metric;
    normalize(key);
    auto [it, fresh] =
        index.emplace(canonical_series(canonical_metric(key), data[i].series.unit), batch.size());
    series_of[i] = it->second;
    if (!fresh) continue;
    pgsql::StoredKey k = pgsql::stored_key(key, data[i].series.unit);
    batch.ns.push_back(std::move(k.ns));
    batch.name.push_back(std::move(k.name));
    batch.dims.push_back(std::move(k.dimensions));
    batch.unit.push_back(std::move(k.unit));
    batch.names.push_back(std::move(k.dim_names));
  }

  // The batch aggregated per (series, res, bucket start): one row each to merge.
  std::map<std::tuple<std::size_t, std::int64_t, std::int64_t>, Aggregate> buckets;
  for (std::size_t i = 0; i < data.size(); ++i) {
    Aggregate a = support::aggregate_of(data[i]);
    if (a.empty()) continue;
    auto ts = static_cast<std::int64_t>(std::floor(data[i].timestamp));
    if (data[i].storage_resolution == 1) buckets[{series_of[i], 1, ts}].merge(a);
    buckets[{series_of[i], 60, support::floor_to(ts, 60)}].merge(a);
  }

  pool_.with_transaction([&](pg::Connection& c) {
    if (advance) {
      // Lock the cursor row (creating it, position NULL, if new) before anything else: a node
      // racing on the same destination waits here, then sees the position this one stored.
      pg::Result r = c.query(
          "INSERT INTO metric_cursors (name, position) VALUES ($1, NULL) ON CONFLICT (name) "
          "DO UPDATE SET position = metric_cursors.position RETURNING position",
          {advance->name});
      if (!r.is_null(0, 0) && r.integer(0, 0) >= advance->position) return;  // already applied
    }
    std::vector<std::int64_t> ids;
    if (batch.size() > 0) ids = resolve_series(c, batch, now);
    std::vector<pgsql::BucketDelta> rows;
    rows.reserve(buckets.size());
    for (const auto& [k, a] : buckets) {
      rows.push_back({std::get<1>(k), ids[std::get<0>(k)], std::get<2>(k), a});
    }
    pgsql::merge_buckets(c, "metric_recent", rows);
    if (advance) {
      c.run("UPDATE metric_cursors SET position = $2 WHERE name = $1",
            {advance->name, advance->position});
    }
    if (ledger) {
      std::vector<std::int64_t> datum_ids(data.size());
      for (std::size_t i = 0; i < data.size(); ++i) datum_ids[i] = ids[series_of[i]];
      pgsql::write_ledger(c, *ledger, datum_ids);
    }
  });
}

std::size_t PgMetricStore::series_count() const {
  return pool_.with_connection([](pg::Connection& c) {
    return static_cast<std::size_t>(c.query("SELECT count(*) FROM metric_series").integer(0, 0));
  });
}

std::optional<std::int64_t> PgMetricStore::cursor(std::string_view name) const {
  return pool_.with_connection([&](pg::Connection& c) -> std::optional<std::int64_t> {
    pg::Result r = c.query("SELECT position FROM metric_cursors WHERE name = $1", {name});
    if (r.empty() || r.is_null(0, 0)) return std::nullopt;
    return r.integer(0, 0);
  });
}

}  // namespace mailtally::metrics
