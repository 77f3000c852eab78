// A chunk: the aggregates of one series over a run of consecutive buckets of one resolution,
// packed into one blob (one database row instead of one row per bucket, which is what makes
// a 15-day read of one-minute data cheap).
//
// Format: byte 1 (version), then the non-empty slots in ascending slot order, each:
//   varint slot (bucket index within the chunk), 4 little-endian doubles (SampleCount, Sum,
//   Minimum, Maximum), varint sketch length, sketch bytes (Sketch::encode()).
// Merging two chunks merges slots with the same index (statistics added, sketches merged);
// slots present in one side only are copied byte for byte.
//
// Thread-safety: plain functions and values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "metrics/aggregate.hpp"

namespace mailtally::metrics {

// One slot as stored; `sketch` points into the chunk's bytes.
struct SlotView {
  std::uint32_t slot = 0;
  double sample_count = 0;
  double sum = 0;
  double minimum = 0;
  double maximum = 0;
  std::string_view sketch;
};

// Reads the slots of an encoded chunk; `data` must outlive the reader.
class ChunkReader {
 public:
  explicit ChunkReader(std::string_view data);
  // The next slot; false at the end or when the data is malformed (then ok() is false).
  bool next(SlotView& out);
  bool ok() const { return ok_; }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

class ChunkWriter {
 public:
  ChunkWriter();
  // Slots must be added in strictly ascending order.
  void add(std::uint32_t slot, const Aggregate& a);
  void add(const SlotView& s);
  bool empty() const { return count_ == 0; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  std::size_t count_ = 0;
};

// The merge of two encoded chunks; nullopt when either is malformed.
std::optional<std::string> merge_chunks(std::string_view a, std::string_view b);

// A slot's statistics as an Aggregate (the sketch decoded only when `with_sketch`; a malformed
// sketch makes percentiles unavailable).
Aggregate to_aggregate(const SlotView& s, bool with_sketch);

}  // namespace mailtally::metrics
