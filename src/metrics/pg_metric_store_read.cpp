// PgMetricStore: ListMetrics and statistics, straight from the database.
#include <algorithm>

#include "metrics/catalogue.hpp"
#include "metrics/pg_metric_sql.hpp"
#include "metrics/pg_metric_store.hpp"
#include "metrics/rules.hpp"
#include "metrics/store_support.hpp"

namespace mailtally::metrics {

base::Expected<MetricPage, ListError> PgMetricStore::list_metrics(const ListFilter& f) const {
  std::int64_t after = 0;
  if (f.next_token) {
    auto id = support::parse_list_token(*f.next_token);
    if (!id) return base::unexpected(ListError::InvalidNextToken);
    after = *id;
  }
  const std::int64_t now = now_seconds();
  const std::int64_t since =
      f.recently_active ? now - rules::kRecentlyActive : now - rules::kListedFor;
  const auto limit = static_cast<std::int64_t>(std::max<std::size_t>(f.page_size, 1));
  std::vector<std::string> names, pairs;
  for (const auto& d : f.dimensions) {
    if (d.value) {
      pairs.push_back(d.name + '\x1e' + *d.value);
    } else {
      names.push_back(d.name);
    }
  }
  pg::Result r = pool_.with_connection([&](pg::Connection& c) {
    return c.query(
        "SELECT id, namespace, name, dimensions FROM metric_metrics "
        "WHERE ($1::text IS NULL OR namespace = $1) AND ($2::text IS NULL OR name = $2) "
        "AND dim_names @> $3::text[] AND dim_pairs @> $4::text[] AND id > $5 "
        "AND last_put >= $6 ORDER BY id LIMIT $7",
        {f.ns ? pg::Param(std::string_view(*f.ns)) : pg::Param(nullptr),
         f.name ? pg::Param(std::string_view(*f.name)) : pg::Param(nullptr),
         pgsql::text_array(names), pgsql::text_array(pairs), after, since, limit + 1});
  });
  MetricPage page;
  const int shown = std::min<int>(r.rows(), static_cast<int>(limit));
  for (int i = 0; i < shown; ++i) {
    page.metrics.push_back(MetricKey{r.str(i, 1), r.str(i, 2), decode_dimensions(r.text(i, 3))});
  }
  if (r.rows() > limit) page.next_token = support::list_token(r.integer(shown - 1, 0));
  return page;
}

std::vector<PeriodStatistics> PgMetricStore::statistics(const StatisticsQuery& q) const {
  if (q.period <= 0 || q.end <= q.start) return {};
  MetricKey key = q.metric;
  normalize(key);
  const std::string dims = encode_dimensions(key.dimensions);
  const std::int64_t res = support::resolution_for(q.start, q.period);
  const std::int64_t recent_res = res == 1 ? 1 : 60;
  const std::int64_t from = std::max(q.start, q.not_before);
  const std::string sketch = q.with_sketch ? "sketch" : "''::bytea";
  const std::string rows_sql = "SELECT ts, n, total, lo, hi, " + sketch +
                               " FROM metric_rollups WHERE res = $1 AND series = $2 AND ts >= "
                               "$3 AND ts < $4 ORDER BY ts";
  const std::string recent_sql = "SELECT ts, n, total, lo, hi, " + sketch +
                                 " FROM metric_recent WHERE res = $1 AND series = $2 AND ts >= "
                                 "$3 AND ts < $4 ORDER BY ts";

  struct Target {
    std::int64_t id;
    std::string unit;
  };
  std::vector<Target> targets;
  std::vector<PeriodStatistics> out;
  // One snapshot for every statement: a compaction committing between the rollup and the
  // recent reads would otherwise make rows vanish from (or appear twice in) the answer.
  pool_.with_transaction(
      [&](pg::Connection& c) {
        targets.clear();
        out.clear();
        pg::Result t = c.query(
            "SELECT s.id, s.unit FROM metric_metrics m JOIN metric_series s ON s.metric = m.id "
            "WHERE m.namespace = $1 AND m.name = $2 AND m.dimensions = $3 "
            "AND ($4::text IS NULL OR s.unit = $4) ORDER BY s.id",
            {key.ns, key.name, dims,
             q.unit ? pg::Param(std::string_view(*q.unit)) : pg::Param(nullptr)});
        for (int i = 0; i < t.rows(); ++i) targets.push_back({t.integer(i, 0), t.str(i, 1)});
        const std::size_t periods = support::expected_periods(q);
        for (const Target& s : targets) {
          support::PeriodBuckets rolled(q, from, s.unit, periods);
          pg::Result a = c.query(rows_sql, {res, s.id, from, q.end});
          for (int i = 0; i < a.rows(); ++i) {
            std::string sk = q.with_sketch ? a.bytea(i, 5) : std::string();
            rolled.add(a.integer(i, 0),
                       SlotView{0, a.real(i, 1), a.real(i, 2), a.real(i, 3), a.real(i, 4), sk});
          }
          support::PeriodBuckets loose(q, from, s.unit, 0);
          pg::Result b = c.query(recent_sql, {recent_res, s.id, from, q.end});
          for (int i = 0; i < b.rows(); ++i) {
            std::string sk = q.with_sketch ? b.bytea(i, 5) : std::string();
            loose.add(b.integer(i, 0),
                      SlotView{0, b.real(i, 1), b.real(i, 2), b.real(i, 3), b.real(i, 4), sk});
          }
          support::merge_sorted(rolled.take(), loose.take(), out);
        }
      },
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  support::finish_units(q, targets.size(), out);
  return out;
}

}  // namespace mailtally::metrics
