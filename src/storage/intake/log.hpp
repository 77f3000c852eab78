// The intake log: where an accepted message is made durable before its MessageId is returned.
//
// An append-only sequence of segment files `DIR/<20-digit number>.log`, each a run of frames
// (u32 payload length, u32 CRC-32 of the payload, little-endian, then the payload). One write
// per batch of frames, so acknowledging many concurrent sends costs one system call (plus one
// fdatasync with `sync`, i.e. Durability::PowerLoss). The SQLite sending store indexes the
// frames into its tables in the background and remembers, in the same transaction, how far it
// got (storage/sqlite/sending_store.cpp); segments before that point are deleted.
//
// Crash recovery (open): the last segment is cut after its last complete, intact frame (a write
// cut short by a crash was never acknowledged); appends then start a new segment.
//
// Threading: append() from one thread at a time (the intake commit thread); read() and
// drop_before() from one thread at a time (the indexer); end() from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mailtally::storage::intake {

struct Position {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;  // bytes into the segment
  friend auto operator<=>(const Position&, const Position&) = default;
};

class Log {
 public:
  // Opens (creating, mode 0700) the log in `dir`. New frames go to a new segment numbered after
  // every existing one and after `after_segment` (the last position the indexer stored), so
  // positions only grow. One process at a time: the log holds an exclusive lock on `DIR/lock`
  // while open, and open() returns nullptr when another process holds it (a `mailtally keys`
  // command next to a running server). Throws std::runtime_error when the directory cannot be
  // used.
  static std::unique_ptr<Log> open(const std::string& dir, bool sync, std::uint64_t after_segment);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends one frame per payload in one write (then fdatasync with `sync`). On failure throws
  // and leaves the log as it was (a partial write is cut off again), so nothing of the batch is
  // ever read.
  void append(const std::vector<std::string>& payloads);

  // The same for frames built by the callers (e.g. on many threads): each string is
  // kFrameHeader reserved bytes followed by the payload, made a frame by seal().
  void append_frames(const std::vector<std::string>& frames);
  static constexpr std::size_t kFrameHeader = 8;
  // Fills the reserved header of `frame` (length and CRC of the rest). Any thread.
  static void seal(std::string& frame);

  // Everything appended so far ends here.
  Position end() const;

  // The first position of the oldest segment still on disk (where a reader without a stored
  // position starts).
  Position begin() const;

  // Whole frames from `from` up to end(): stops after `max_bytes` of payload (but returns at
  // least one frame when there is one) and advances `from` past what it returned. A damaged
  // frame in the middle of the log (only possible after a disk fault) ends its segment: the rest
  // of that segment is skipped with a message on stderr.
  std::vector<std::string> read(Position& from, std::size_t max_bytes);

  // Deletes every segment before `position`'s segment.
  void drop_before(Position position);

  // Segments roll over after this many bytes.
  static constexpr std::uint64_t kSegmentBytes = 64ull << 20;

 private:
  Log(std::string dir, bool sync);
  std::string segment_path(std::uint64_t segment) const;
  void start_segment(std::uint64_t segment);
  int reader_fd(std::uint64_t segment);
  std::uint64_t segment_size(std::uint64_t segment);

  const std::string dir_;
  const bool sync_;
  // Writer side (append's thread).
  int lock_fd_ = -1;  // holds the flock for the log's lifetime
  int write_fd_ = -1;
  // Reader side (read's thread).
  int read_fd_ = -1;
  std::uint64_t read_segment_ = 0;
  std::string chunk_;
  // Shared.
  mutable std::mutex mu_;
  Position end_;                     // guarded by mu_
  std::uint64_t first_segment_ = 0;  // guarded by mu_: oldest segment on disk
};

}  // namespace mailtally::storage::intake
