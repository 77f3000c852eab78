// SqliteMetricStore::compact(): packing recent rows into chunks (with the 5-minute and hourly
// rollups), retention by whole partitions, and the expiry of metrics idle for 455 days. Every
// step runs in short transactions (a bounded range of series each) taking the writer mutex per
// transaction, so puts interleave with a long compaction.
#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <span>
#include <tuple>

#include "metrics/chunk.hpp"
#include "metrics/rules.hpp"
#include "metrics/schema.hpp"
#include "metrics/sqlite.hpp"
#include "metrics/sqlite_metric_store.hpp"
#include "metrics/store_support.hpp"

namespace mailtally::metrics {
namespace {

// A chunk is packed once it has been closed this long (late datums still land as recent rows
// and are packed, merged, by a later compaction).
constexpr std::int64_t kPackGrace = 120;
constexpr std::int64_t kPackSeries = 256;     // series per packing transaction
constexpr std::int64_t kDeleteSeries = 2048;  // series per retention transaction

// (resolution, series, chunk start) -> slot -> aggregate
using Deltas = std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>,
                        std::map<std::uint32_t, Aggregate>>;

}  // namespace

std::int64_t SqliteMetricStore::pack(std::int64_t res, std::int64_t horizon) {
  static constexpr std::array<std::int64_t, 1> kSecondTargets = {1};
  static constexpr std::array<std::int64_t, 3> kMinuteTargets = {60, 300, 3600};
  const std::span<const std::int64_t> targets =
      res == 1 ? std::span<const std::int64_t>(kSecondTargets) : kMinuteTargets;
  const std::int64_t last_part = schema::partition_of(horizon - 1, res);
  std::int64_t packed = 0;
  std::int64_t part = std::numeric_limits<std::int64_t>::min();
  for (;;) {
    std::int64_t max_series = 0;
    {
      std::lock_guard lock(write_mu_);
      sql::Statement s = writer_->use(schema::kNextRecentPartition);
      s.bind(1, res).bind(2, part);
      if (!s.step() || s.integer(0) > last_part) break;
      part = s.integer(0);
      sql::Statement m = writer_->use(schema::kMaxSeriesRecent);
      m.bind(1, res).bind(2, part);
      max_series = m.step() ? m.integer(0) : 0;
    }
    for (std::int64_t lo = 0; lo <= max_series; lo += kPackSeries) {
      std::lock_guard lock(write_mu_);
      sql::Transaction tx(*writer_);
      Deltas deltas;
      std::int64_t rows = 0;
      {
        sql::Statement s = writer_->use(schema::kPackSelect);
        s.bind(1, res).bind(2, part).bind(3, lo).bind(4, lo + kPackSeries).bind(5, horizon);
        while (s.step()) {
          const std::int64_t series = s.integer(0);
          const std::int64_t ts = s.integer(1);
          Aggregate a = to_aggregate(
              SlotView{0, s.real(2), s.real(3), s.real(4), s.real(5), s.blob(6)}, true);
          for (std::int64_t t : targets) {
            const std::int64_t bucket = support::floor_to(ts, t);
            const std::int64_t chunk = support::floor_to(bucket, schema::chunk_width(t));
            deltas[{t, series, chunk}][static_cast<std::uint32_t>((bucket - chunk) / t)].merge(a);
          }
          ++rows;
        }
      }
      if (rows == 0) continue;  // nothing written: the transaction rolls back
      for (const auto& [key, slots] : deltas) {
        const auto& [t, series, chunk] = key;
        ChunkWriter w;
        for (const auto& [slot, a] : slots) w.add(slot, a);
        writer_->use(schema::kUpsertChunk)
            .bind(1, t)
            .bind(2, schema::partition_of(chunk, t))
            .bind(3, series)
            .bind(4, chunk)
            .bind_blob(5, w.take())
            .run();
      }
      writer_->use(schema::kPackDelete)
          .bind(1, res)
          .bind(2, part)
          .bind(3, lo)
          .bind(4, lo + kPackSeries)
          .bind(5, horizon)
          .run();
      tx.commit();
      packed += rows;
    }
    if (part == std::numeric_limits<std::int64_t>::max()) break;
    ++part;
  }
  return packed;
}

std::int64_t SqliteMetricStore::expire(bool chunks, std::int64_t res, std::int64_t cutoff) {
  // Partitions that end at or before the cutoff are wholly expired.
  const std::int64_t keep_from = schema::partition_of(cutoff, res);
  std::int64_t deleted = 0;
  for (;;) {
    std::int64_t part = 0;
    std::int64_t max_series = 0;
    {
      std::lock_guard lock(write_mu_);
      sql::Statement s = chunks ? writer_->use(schema::kOldestChunkPartition)
                                : writer_->use(schema::kNextRecentPartition);
      s.bind(1, res);
      if (!chunks) s.bind(2, std::numeric_limits<std::int64_t>::min());
      if (!s.step() || s.integer(0) >= keep_from) break;
      part = s.integer(0);
      sql::Statement m = writer_->use(chunks ? schema::kMaxSeriesChunks : schema::kMaxSeriesRecent);
      m.bind(1, res).bind(2, part);
      max_series = m.step() ? m.integer(0) : 0;
    }
    for (std::int64_t lo = 0; lo <= max_series; lo += kDeleteSeries) {
      std::lock_guard lock(write_mu_);
      sql::Transaction tx(*writer_);
      writer_->use(chunks ? schema::kDeleteChunks : schema::kDeleteRecent)
          .bind(1, res)
          .bind(2, part)
          .bind(3, lo)
          .bind(4, lo + kDeleteSeries)
          .run();
      deleted += writer_->changes();
      tx.commit();
    }
  }
  return deleted;
}

CompactionReport SqliteMetricStore::compact(std::int64_t now) {
  CompactionReport report;
  report.rows_packed += pack(1, support::floor_to(now - kPackGrace, schema::chunk_width(1)));
  report.rows_packed += pack(60, support::floor_to(now - kPackGrace, schema::chunk_width(60)));

  struct Tier {
    std::int64_t res;
    std::int64_t retention;
  };
  static constexpr Tier kTiers[] = {{1, rules::kSecondRetention},
                                    {60, rules::kMinuteRetention},
                                    {300, rules::kFiveMinuteRetention},
                                    {3600, rules::kHourRetention}};
  for (const Tier& tier : kTiers) {
    report.rows_deleted += expire(true, tier.res, now - tier.retention);
  }
  // Recent rows are normally packed long before; these only catch very late high-resolution
  // data and minute data older than every retention.
  report.rows_deleted += expire(false, 1, now - rules::kSecondRetention);
  report.rows_deleted += expire(false, 60, now - rules::kHourRetention);

  // Metrics expire 455 days after their last put.
  std::lock_guard lock(write_mu_);
  std::vector<std::int64_t> idle;
  {
    std::shared_lock read_lock(catalogue_mu_);
    idle = catalogue_.series_idle_since(now - rules::kHourRetention);
  }
  if (idle.empty()) return report;
  {
    sql::Transaction tx(*writer_);
    for (std::int64_t id : idle) writer_->use(schema::kDeleteSeries).bind(1, id).run();
    tx.commit();
  }
  std::unique_lock write_catalogue(catalogue_mu_);
  for (std::int64_t id : idle) catalogue_.remove(id);
  report.series_expired = static_cast<std::int64_t>(idle.size());
  return report;
}

}  // namespace mailtally::metrics
