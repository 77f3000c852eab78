// SqliteMetricStore as the PublishingLedger: ownership, drop diagnostics, coverage and caps.
#include <algorithm>

#include "metrics/ledger_statements.hpp"
#include "metrics/schema.hpp"
#include "metrics/sqlite.hpp"
#include "metrics/sqlite_metric_store.hpp"

namespace mailtally::metrics {
namespace {

SeriesKey key_of(const Catalogue::Series& s) {
  SeriesKey k;
  k.metric = s.metric->key;
  k.unit = s.unit;
  return k;
}

}  // namespace

bool covered(const std::vector<SeqRange>& ranges, std::int64_t seq) {
  // Ranges are sorted by `after`; any range with after < seq may hold it.
  auto end = std::lower_bound(ranges.begin(), ranges.end(), seq,
                              [](const SeqRange& r, std::int64_t s) { return r.after < s; });
  for (auto it = ranges.begin(); it != end; ++it) {
    if (seq <= it->last) return true;
  }
  return false;
}

void SqliteMetricStore::load_owners() {
  sql::Statement s = writer_->use(schema::kLoadOwners);
  while (s.step()) {
    std::string owner(s.text(0));
    std::int64_t id = s.integer(1);
    if (owner_index_.emplace(owner + '\x1d' + std::to_string(id), 1).second) {
      owners_[owner].push_back(id);
    }
  }
  for (auto& [owner, ids] : owners_) std::sort(ids.begin(), ids.end());
}

void SqliteMetricStore::write_ledger(const LedgerWrite& l, const std::vector<std::int64_t>& ids) {
  for (std::size_t i : l.claims) {
    if (i < ids.size()) writer_->use(schema::kClaimSeries).bind(1, l.owner).bind(2, ids[i]).run();
  }
  std::vector<const std::string*> reasons;
  for (const auto& d : l.drops) {
    writer_->use(schema::kCountDrop).bind(1, l.owner).bind(2, d.reason).bind(3, d.at).run();
    writer_->use(schema::kAddDropExample)
        .bind(1, l.owner)
        .bind(2, d.reason)
        .bind(3, d.seq)
        .bind(4, d.message_id)
        .bind(5, d.dimension)
        .bind(6, d.at)
        .run();
    if (std::none_of(reasons.begin(), reasons.end(), [&](auto* r) { return *r == d.reason; })) {
      reasons.push_back(&d.reason);
    }
  }
  for (const std::string* r : reasons) {
    writer_->use(schema::kTrimDropExamples)
        .bind(1, l.owner)
        .bind(2, *r)
        .bind(3, schema::kDropExamplesKept)
        .run();
  }
  if (l.live) {
    sql::Statement ext = writer_->use(schema::kExtendLive);
    ext.bind(1, l.owner).bind(2, l.fingerprint).bind(3, l.live->after).bind(4, l.live->last);
    if (ext.run() == 0) {
      writer_->use(schema::kInsertCoverage)
          .bind(1, l.owner)
          .bind(2, l.fingerprint)
          .bind(3, l.live->after)
          .bind(4, l.live->last)
          .bind(5, std::int64_t{0})
          .run();
    }
  }
  for (const auto& r : l.replayed) {
    writer_->use(schema::kInsertCoverage)
        .bind(1, l.owner)
        .bind(2, l.fingerprint)
        .bind(3, r.after)
        .bind(4, r.last)
        .bind(5, std::int64_t{1})
        .run();
  }
}

std::vector<bool> SqliteMetricStore::claimed(std::string_view owner,
                                             const std::vector<SeriesKey>& keys) const {
  std::vector<bool> out(keys.size(), false);
  std::shared_lock lock(catalogue_mu_);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    MetricKey k = keys[i].metric;
    normalize(k);
    const Catalogue::Series* s =
        catalogue_.find_series(canonical_series(canonical_metric(k), keys[i].unit));
    if (!s) continue;
    std::string idx(owner);
    idx += '\x1d';
    idx += std::to_string(s->id);
    out[i] = owner_index_.find(idx) != owner_index_.end();
  }
  return out;
}

std::vector<SeriesKey> SqliteMetricStore::owned_series(std::string_view owner) const {
  std::vector<SeriesKey> out;
  std::shared_lock lock(catalogue_mu_);
  auto it = owners_.find(owner);
  if (it == owners_.end()) return out;
  for (std::int64_t id : it->second) {
    if (const Catalogue::Series* s = catalogue_.series_by_id(id)) out.push_back(key_of(*s));
  }
  return out;
}

std::vector<std::string> SqliteMetricStore::owners() const {
  std::vector<std::string> out;
  std::shared_lock lock(catalogue_mu_);
  for (const auto& [owner, ids] : owners_) out.push_back(owner);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<DropCount> SqliteMetricStore::drop_counts() const {
  std::vector<DropCount> out;
  auto conn = acquire_reader();
  {
    sql::Statement s = conn->use(schema::kReadDropCounts);
    while (s.step()) {
      out.push_back({std::string(s.text(0)), std::string(s.text(1)), s.integer(2), s.real(3)});
    }
  }
  release_reader(std::move(conn));
  return out;
}

std::vector<DropNote> SqliteMetricStore::drop_examples(std::string_view owner,
                                                       std::string_view reason,
                                                       std::size_t limit) const {
  std::vector<DropNote> out;
  auto conn = acquire_reader();
  {
    sql::Statement s = conn->use(schema::kReadDropExamples);
    s.bind(1, owner).bind(2, reason).bind(3, static_cast<std::int64_t>(limit));
    while (s.step()) {
      DropNote n;
      n.reason = std::string(reason);
      n.seq = s.integer(0);
      n.message_id = std::string(s.text(1));
      n.dimension = std::string(s.text(2));
      n.at = s.real(3);
      out.push_back(std::move(n));
    }
  }
  release_reader(std::move(conn));
  return out;
}

std::vector<SeqRange> SqliteMetricStore::coverage(std::string_view owner,
                                                  std::string_view fingerprint) const {
  std::vector<SeqRange> out;
  auto conn = acquire_reader();
  {
    sql::Statement s = conn->use(schema::kReadCoverage);
    s.bind(1, owner).bind(2, fingerprint);
    while (s.step()) out.push_back({s.integer(0), s.integer(1)});
  }
  release_reader(std::move(conn));
  return out;
}

void SqliteMetricStore::set_cap(std::string_view owner, std::optional<std::int64_t> cap) {
  std::lock_guard lock(write_mu_);
  sql::Transaction tx(*writer_);
  if (cap) {
    writer_->use(schema::kSetCap).bind(1, owner).bind(2, *cap).run();
  } else {
    writer_->use(schema::kDeleteCap).bind(1, owner).run();
  }
  tx.commit();
}

std::vector<std::pair<std::string, std::int64_t>> SqliteMetricStore::caps() const {
  std::vector<std::pair<std::string, std::int64_t>> out;
  auto conn = acquire_reader();
  {
    sql::Statement s = conn->use(schema::kReadCaps);
    while (s.step()) out.emplace_back(std::string(s.text(0)), s.integer(1));
  }
  release_reader(std::move(conn));
  return out;
}

std::vector<SeriesKey> SqliteMetricStore::series_named(std::string_view ns,
                                                       std::string_view name) const {
  ListFilter f;
  f.ns = std::string(ns);
  f.name = std::string(name);
  std::vector<SeriesKey> out;
  std::shared_lock lock(catalogue_mu_);
  for (const Catalogue::Metric* m : catalogue_.candidates(f)) {
    if (m->key.ns != ns || m->key.name != name) continue;
    for (const Catalogue::Series* s : m->series) out.push_back(key_of(*s));
  }
  return out;
}

std::vector<SeriesKey> SqliteMetricStore::all_series() const {
  std::vector<SeriesKey> out;
  std::shared_lock lock(catalogue_mu_);
  for (const Catalogue::Metric* m : catalogue_.candidates(ListFilter{})) {
    for (const Catalogue::Series* s : m->series) out.push_back(key_of(*s));
  }
  return out;
}

}  // namespace mailtally::metrics
