// PgMetricStore: opening and writing (put, put_published). Reads, compaction and the ledger's
// reads are in pg_metric_store_read.cpp, pg_metric_store_compact.cpp, pg_metric_store_ledger.cpp.
#include "metrics/pg_metric_store.hpp"

#include <chrono>
#include <cmath>
#include <map>
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

constexpr std::string_view kSelectSeries =
    "SELECT u.i, s.id, s.last_put FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
    "WITH ORDINALITY AS u(ns, nm, dims, unit, i) JOIN metric_series s ON s.namespace = u.ns "
    "AND s.name = u.nm AND s.dimensions = u.dims AND s.unit = u.unit";

// New series: ids drawn in batch order (creation order, as the SQLite store numbers them), rows
// inserted in key order (two nodes creating the same series wait for each other in the same
// order); a series another transaction inserted meanwhile is left alone (its id unused).
constexpr std::string_view kInsertSeries =
    "INSERT INTO metric_series (id, namespace, name, dimensions, unit, dim_names, dim_pairs, "
    "last_put) SELECT id, ns, nm, dims, unit, string_to_array(names, chr(31)), "
    "string_to_array(rtrim(dims, chr(31)), chr(31)), $6 FROM (SELECT "
    "nextval(pg_get_serial_sequence('metric_series', 'id')) AS id, ns, nm, dims, unit, names "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY "
    "AS u(ns, nm, dims, unit, names, i) ORDER BY i) AS n "
    "ORDER BY ns, nm, dims, unit ON CONFLICT (namespace, name, dimensions, unit) DO NOTHING";

// The series of one batch, as array parameters.
struct SeriesBatch {
  std::vector<std::string> ns, name, dims, unit, names;
  std::size_t size() const { return ns.size(); }
};

// The id of every series of `batch` (index-aligned), creating the missing ones; refreshes
// last_put of those not touched for a minute.
std::vector<std::int64_t> resolve_series(pg::Connection& c, const SeriesBatch& batch,
                                         std::int64_t now) {
  std::vector<std::int64_t> ids(batch.size(), 0);
  std::vector<std::int64_t> stale;
  std::size_t found = 0;
  auto select = [&] {
    pg::Result r =
        c.query(kSelectSeries, {pgsql::text_array(batch.ns), pgsql::text_array(batch.name),
                                pgsql::text_array(batch.dims), pgsql::text_array(batch.unit)});
    found = 0;
    stale.clear();
    for (int i = 0; i < r.rows(); ++i) {
      const auto at = static_cast<std::size_t>(r.integer(i, 0) - 1);
      ids[at] = r.integer(i, 1);
      if (r.integer(i, 2) <= now - kTouchInterval) stale.push_back(ids[at]);
      ++found;
    }
  };
  select();
  if (found < batch.size()) {
    SeriesBatch missing;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (ids[i] != 0) continue;
      missing.ns.push_back(batch.ns[i]);
      missing.name.push_back(batch.name[i]);
      missing.dims.push_back(batch.dims[i]);
      missing.unit.push_back(batch.unit[i]);
      missing.names.push_back(batch.names[i]);
    }
    c.run(kInsertSeries, {pgsql::text_array(missing.ns), pgsql::text_array(missing.name),
                          pgsql::text_array(missing.dims), pgsql::text_array(missing.unit),
                          pgsql::text_array(missing.names), now});
    select();
    // Only an expiry racing with this put can remove a series just seen: run it again.
    if (found < batch.size()) throw pg::Error("metrics store: a series vanished mid-put", "40001");
  }
  if (!stale.empty()) {
    // Locks those rows: an expiry (compact) either waits for this put or has already removed
    // the series, which this put must then re-create.
    const std::int64_t touched =
        c.run("UPDATE metric_series SET last_put = GREATEST(last_put, $1) WHERE id = ANY($2)",
              {now, pgsql::int_array(stale)});
    if (touched < static_cast<std::int64_t>(stale.size())) {
      throw pg::Error("metrics store: a series expired mid-put", "40001");
    }
  }
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
