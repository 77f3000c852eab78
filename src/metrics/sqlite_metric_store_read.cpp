// SqliteMetricStore: ListMetrics, statistics and cursors. Compaction is in
// sqlite_metric_store_compact.cpp.
#include <algorithm>
#include <chrono>
#include <optional>

#include "metrics/chunk.hpp"
#include "metrics/rules.hpp"
#include "metrics/schema.hpp"
#include "metrics/sqlite.hpp"
#include "metrics/sqlite_metric_store.hpp"
#include "metrics/store_support.hpp"

namespace mailtally::metrics {
namespace {

// Every filter names a dimension of the metric (with that value, when it gives one).
bool dimensions_match(const std::vector<Dimension>& dims, const std::vector<DimensionFilter>& fs) {
  for (const auto& f : fs) {
    auto it = std::lower_bound(dims.begin(), dims.end(), f.name,
                               [](const Dimension& d, const std::string& n) { return d.name < n; });
    if (it == dims.end() || it->name != f.name) return false;
    if (f.value && it->value != *f.value) return false;
  }
  return true;
}

std::int64_t seconds_now(const base::Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

struct Target {
  std::int64_t id;
  std::string unit;
};

}  // namespace

std::unique_ptr<sql::Connection> SqliteMetricStore::acquire_reader() const {
  {
    std::lock_guard lock(readers_mu_);
    if (!readers_.empty()) {
      auto conn = std::move(readers_.back());
      readers_.pop_back();
      return conn;
    }
  }
  return open_connection();
}

void SqliteMetricStore::release_reader(std::unique_ptr<sql::Connection> conn) const {
  if (!conn->idle()) return;  // closed (rolls back) rather than reused
  std::lock_guard lock(readers_mu_);
  readers_.push_back(std::move(conn));
}

std::optional<std::int64_t> SqliteMetricStore::cursor(std::string_view name) const {
  auto conn = acquire_reader();
  std::optional<std::int64_t> position;
  {
    sql::Statement s = conn->use(schema::kGetCursor);
    s.bind(1, name);
    if (s.step()) position = s.integer(0);
  }
  release_reader(std::move(conn));
  return position;
}

base::Expected<MetricPage, ListError> SqliteMetricStore::list_metrics(const ListFilter& f) const {
  std::int64_t after = 0;
  if (f.next_token) {
    auto id = support::parse_list_token(*f.next_token);
    if (!id) return base::unexpected(ListError::InvalidNextToken);
    after = *id;
  }
  const std::int64_t now = seconds_now(clock_);
  const std::int64_t listed_since = now - rules::kListedFor;
  const std::int64_t active_since = now - rules::kRecentlyActive;
  const std::size_t limit = std::max<std::size_t>(f.page_size, 1);

  MetricPage page;
  std::shared_lock lock(catalogue_mu_);
  const auto& candidates = catalogue_.candidates(f);
  auto it =
      std::upper_bound(candidates.begin(), candidates.end(), after,
                       [](std::int64_t id, const Catalogue::Metric* m) { return id < m->id; });
  std::int64_t last = after;
  for (; it != candidates.end(); ++it) {
    const Catalogue::Metric& m = **it;
    if ((f.ns && m.key.ns != *f.ns) || (f.name && m.key.name != *f.name)) continue;
    if (!dimensions_match(m.key.dimensions, f.dimensions)) continue;
    std::int64_t put = m.last_put();
    if (put < listed_since || (f.recently_active && put < active_since)) continue;
    if (page.metrics.size() == limit) {
      page.next_token = support::list_token(last);
      break;
    }
    page.metrics.push_back(m.key);
    last = m.id;
  }
  return page;
}

std::vector<PeriodStatistics> SqliteMetricStore::statistics(const StatisticsQuery& q) const {
  if (q.period <= 0 || q.end <= q.start) return {};
  MetricKey key = q.metric;
  normalize(key);
  std::vector<Target> targets;
  {
    std::shared_lock lock(catalogue_mu_);
    const Catalogue::Metric* m = catalogue_.find_metric(canonical_metric(key));
    if (m == nullptr) return {};
    for (const Catalogue::Series* s : m->series) {
      if (!q.unit || s->unit == *q.unit) targets.push_back({s->id, s->unit});
    }
  }
  if (targets.empty()) return {};

  const std::int64_t res = support::resolution_for(q.start, q.period);
  const std::int64_t recent_res = res == 1 ? 1 : 60;
  const std::int64_t from = std::max(q.start, q.not_before);
  std::vector<PeriodStatistics> out;
  auto conn = acquire_reader();
  // One snapshot for every statement: a compaction committing between the chunk and the
  // recent reads would otherwise make packed rows vanish from (or appear twice in) the answer.
  std::optional<sql::ReadSnapshot> snapshot(std::in_place, *conn);
  // Periods the range holds (capped: the reservation is only a hint).
  const std::size_t periods = support::expected_periods(q);
  for (const Target& t : targets) {
    support::PeriodBuckets packed(q, from, t.unit, periods);
    const std::int64_t cw = schema::chunk_width(res);
    const std::int64_t pw = schema::partition_width(res);
    const std::int64_t chunk_from = support::floor_div(from, cw) * cw;
    for (std::int64_t part = support::floor_div(chunk_from, pw);
         part <= support::floor_div(q.end - 1, pw); ++part) {
      sql::Statement s = conn->use(schema::kReadChunks);
      s.bind(1, res).bind(2, part).bind(3, t.id).bind(4, chunk_from).bind(5, q.end);
      while (s.step()) {
        const std::int64_t base = s.integer(0);
        ChunkReader reader(s.blob(1));
        SlotView slot;
        while (reader.next(slot)) packed.add(base + slot.slot * res, slot);
      }
    }
    support::PeriodBuckets loose(q, from, t.unit, 0);
    const std::int64_t rpw = schema::partition_width(recent_res);
    for (std::int64_t part = support::floor_div(from, rpw);
         part <= support::floor_div(q.end - 1, rpw); ++part) {
      sql::Statement s = conn->use(schema::kReadRecent);
      s.bind(1, recent_res).bind(2, part).bind(3, t.id).bind(4, from).bind(5, q.end);
      while (s.step()) {
        loose.add(s.integer(0), SlotView{0, s.real(1), s.real(2), s.real(3), s.real(4), s.blob(5)});
      }
    }
    support::merge_sorted(packed.take(), loose.take(), out);
  }
  snapshot.reset();
  release_reader(std::move(conn));

  support::finish_units(q, targets.size(), out);
  return out;
}

}  // namespace mailtally::metrics
