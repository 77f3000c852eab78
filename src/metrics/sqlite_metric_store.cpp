// SqliteMetricStore: opening and writing. Reads and compaction are in
// sqlite_metric_store_read.cpp.
#include "metrics/sqlite_metric_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "metrics/schema.hpp"
#include "metrics/sqlite.hpp"
#include "metrics/store_support.hpp"

namespace mailtally::metrics {
namespace {

// Creates `path` with mode 0600 when missing, whatever the umask.
void create_private_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return;
    throw std::runtime_error("metrics store: cannot create database file '" + path +
                             "': " + std::strerror(errno));
  }
  ::fchmod(fd, 0600);
  ::close(fd);
}

struct RowKey {
  std::int64_t series;
  std::int64_t ts;
  std::int64_t res;
  bool operator==(const RowKey&) const = default;
};
struct RowKeyHash {
  std::size_t operator()(const RowKey& k) const {
    std::uint64_t h = static_cast<std::uint64_t>(k.series) * 0x9E3779B97F4A7C15ull;
    h ^= static_cast<std::uint64_t>(k.ts) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
    h ^= static_cast<std::uint64_t>(k.res) * 0xBF58476D1CE4E5B9ull;
    return static_cast<std::size_t>(h ^ (h >> 31));
  }
};

// A series' last_put is written to the database at most once a minute (ListMetrics' windows
// are hours and weeks); the catalogue holds the exact value.
constexpr std::int64_t kTouchInterval = 60;

struct NewSeries {
  std::int64_t id;
  MetricKey key;
  std::string canonical;
  std::string unit;
};

}  // namespace

SqliteMetricStore::SqliteMetricStore(std::string path, const base::Clock& clock)
    : path_(std::move(path)), clock_(clock) {}

SqliteMetricStore::~SqliteMetricStore() = default;

std::unique_ptr<sql::Connection> SqliteMetricStore::open_connection() const {
  auto conn = std::make_unique<sql::Connection>(path_);
  schema::configure(*conn);
  return conn;
}

std::unique_ptr<SqliteMetricStore> SqliteMetricStore::open(const std::string& path,
                                                           const base::Clock& clock) {
  create_private_file(path);
  std::unique_ptr<SqliteMetricStore> store(new SqliteMetricStore(path, clock));
  store->writer_ = store->open_connection();
  schema::migrate(*store->writer_);
  sql::Statement s = store->writer_->use(schema::kLoadSeries);
  while (s.step()) {
    MetricKey key{std::string(s.text(1)), std::string(s.text(2)), decode_dimensions(s.text(3))};
    std::string canonical = canonical_metric(key);
    store->catalogue_.add(s.integer(0), key, std::move(canonical), std::string(s.text(4)),
                          s.integer(5));
  }
  store->next_id_ = store->catalogue_.max_id() + 1;
  store->load_owners();
  return store;
}

void SqliteMetricStore::put(const std::vector<Datum>& data) { put_batch(data, nullptr); }

void SqliteMetricStore::put(const std::vector<Datum>& data, const CursorAdvance& advance) {
  put_batch(data, &advance);
}

void SqliteMetricStore::put_published(const std::vector<Datum>& data, const CursorAdvance* advance,
                                      const LedgerWrite& ledger) {
  put_batch(data, advance, &ledger);
}

void SqliteMetricStore::put_batch(const std::vector<Datum>& data, const CursorAdvance* advance,
                                  const LedgerWrite* ledger) {
  using std::chrono::duration_cast;
  const std::int64_t now =
      duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();

  // Normalized keys (copied only when the caller's dimensions are out of order) and checks.
  support::validate(data);
  std::vector<MetricKey> sorted_copies;
  std::vector<const MetricKey*> keys(data.size());
  for (std::size_t i = 0; i < data.size(); ++i) keys[i] = &data[i].series.metric;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto& dims = keys[i]->dimensions;
    if (!std::is_sorted(dims.begin(), dims.end(),
                        [](const auto& a, const auto& b) { return a.name < b.name; })) {
      sorted_copies.reserve(data.size());
      sorted_copies.push_back(*keys[i]);
      normalize(sorted_copies.back());
      keys[i] = &sorted_copies.back();
    }
  }

  if (data.empty() && advance == nullptr && ledger == nullptr) return;
  std::lock_guard write_lock(write_mu_);
  const std::int64_t first_new_id = next_id_;
  std::vector<std::int64_t> ids(data.size());
  std::vector<NewSeries> created;
  StringMap<std::int64_t> pending;
  std::vector<Catalogue::Series*> touched;
  {
    std::shared_lock read_lock(catalogue_mu_);
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (i > 0 && *keys[i] == *keys[i - 1] && data[i].series.unit == data[i - 1].series.unit) {
        ids[i] = ids[i - 1];
        continue;
      }
      std::string metric = canonical_metric(*keys[i]);
      std::string series = canonical_series(metric, data[i].series.unit);
      if (Catalogue::Series* s = catalogue_.find_series(series)) {
        ids[i] = s->id;
        touched.push_back(s);
      } else if (auto it = pending.find(series); it != pending.end()) {
        ids[i] = it->second;
      } else {
        ids[i] = next_id_++;
        pending.emplace(std::move(series), ids[i]);
        created.push_back({ids[i], *keys[i], std::move(metric), data[i].series.unit});
      }
    }
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());

  std::unordered_map<RowKey, Aggregate, RowKeyHash> rows;
  rows.reserve(data.size() * 2);
  for (std::size_t i = 0; i < data.size(); ++i) {
    Aggregate a = support::aggregate_of(data[i]);
    if (a.empty()) continue;
    auto ts = static_cast<std::int64_t>(std::floor(data[i].timestamp));
    if (data[i].storage_resolution == 1) rows[{ids[i], ts, 1}].merge(a);
    rows[{ids[i], support::floor_to(ts, 60), 60}].merge(a);
  }

  try {
    sql::Transaction tx(*writer_);
    for (const auto& n : created) {
      sql::Statement s = writer_->use(schema::kInsertSeries);
      s.bind(1, n.id).bind(2, n.key.ns).bind(3, n.key.name);
      s.bind(4, encode_dimensions(n.key.dimensions)).bind(5, n.unit).bind(6, now).run();
    }
    for (const auto& [k, a] : rows) {
      sql::Statement s = writer_->use(schema::kUpsertRecent);
      s.bind(1, k.res).bind(2, schema::partition_of(k.ts, k.res)).bind(3, k.series);
      s.bind(4, k.ts).bind(5, a.sample_count).bind(6, a.sum).bind(7, a.minimum);
      s.bind(8, a.maximum).bind_blob(9, a.sketch.encode()).run();
    }
    for (Catalogue::Series* t : touched) {
      if (now - t->persisted_last_put < kTouchInterval) continue;
      writer_->use(schema::kTouchSeries).bind(1, t->id).bind(2, now).run();
    }
    if (advance) {
      writer_->use(schema::kSetCursor).bind(1, advance->name).bind(2, advance->position).run();
    }
    if (ledger) write_ledger(*ledger, ids);
    tx.commit();
  } catch (...) {
    next_id_ = first_new_id;
    throw;
  }

  for (Catalogue::Series* t : touched) {
    if (now - t->persisted_last_put >= kTouchInterval) t->persisted_last_put = now;
    std::int64_t prev = t->last_put.load(std::memory_order_relaxed);
    if (prev < now) t->last_put.store(now, std::memory_order_relaxed);
  }
  if (!created.empty()) {
    std::unique_lock lock(catalogue_mu_);
    for (auto& n : created) {
      catalogue_.add(n.id, n.key, std::move(n.canonical), std::move(n.unit), now);
    }
  }
  if (ledger && !ledger->claims.empty()) {
    std::unique_lock lock(catalogue_mu_);
    for (std::size_t i : ledger->claims) {
      if (i >= ids.size()) continue;
      std::string k = ledger->owner + '\x1d' + std::to_string(ids[i]);
      if (owner_index_.emplace(std::move(k), 1).second) owners_[ledger->owner].push_back(ids[i]);
    }
  }
}

std::size_t SqliteMetricStore::series_count() const {
  std::shared_lock lock(catalogue_mu_);
  return catalogue_.series_count();
}

}  // namespace mailtally::metrics
