#include "storage/intake/log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace mailtally::storage::intake {
namespace {

constexpr std::size_t kHeader = 8;             // u32 length, u32 crc
constexpr std::size_t kChunk = 1u << 20;       // bytes read at once
constexpr std::uint32_t kMaxFrame = 1u << 30;  // larger lengths are damage, not data

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("intake log: " + what + ": " + std::strerror(errno));
}

std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t crc_of(std::string_view payload) {
  // zlib's crc32 takes a uInt length: feed large payloads in pieces.
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!payload.empty()) {
    auto n = static_cast<uInt>(std::min<std::size_t>(payload.size(), 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), n);
    payload.remove_prefix(n);
  }
  return static_cast<std::uint32_t>(crc);
}

bool pread_all(int fd, char* buf, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buf += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

// Segment numbers found in `dir`, ascending.
std::vector<std::uint64_t> list_segments(const std::string& dir) {
  std::vector<std::uint64_t> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    auto name = e.path().filename().string();
    if (name.size() != 24 || name.substr(20) != ".log") continue;
    if (name.find_first_not_of("0123456789") != 20) continue;
    out.push_back(std::stoull(name.substr(0, 20)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Length of the run of intact frames at the start of the file `fd` of `size` bytes.
std::uint64_t intact_prefix(int fd, std::uint64_t size) {
  std::uint64_t at = 0;
  std::string payload;
  char header[kHeader];
  while (at + kHeader <= size) {
    if (!pread_all(fd, header, kHeader, at)) break;
    std::uint32_t len = get_u32(header);
    if (len > kMaxFrame || at + kHeader + len > size) break;
    payload.resize(len);
    if (!pread_all(fd, payload.data(), len, at + kHeader)) break;
    if (crc_of(payload) != get_u32(header + 4)) break;
    at += kHeader + len;
  }
  return at;
}

}  // namespace

Log::Log(std::string dir, bool sync) : dir_(std::move(dir)), sync_(sync) {}

Log::~Log() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
  if (write_fd_ >= 0) ::close(write_fd_);
  if (read_fd_ >= 0) ::close(read_fd_);
}

std::unique_ptr<Log> Log::open(const std::string& dir, bool sync, std::uint64_t after_segment) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) fail("cannot create " + dir);
  std::unique_ptr<Log> log(new Log(dir, sync));
  const std::string lock_path = dir + "/lock";
  log->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (log->lock_fd_ < 0) fail("cannot open " + lock_path);
  if (::flock(log->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return nullptr;  // another process has the log
    fail("cannot lock " + lock_path);
  }
  auto segments = list_segments(dir);
  std::uint64_t last = after_segment;
  if (!segments.empty()) {
    // Cut a torn tail off the newest segment: it was never acknowledged.
    std::string path = log->segment_path(segments.back());
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) fail("cannot open " + path);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      fail("cannot stat " + path);
    }
    auto size = static_cast<std::uint64_t>(st.st_size);
    std::uint64_t keep = intact_prefix(fd, size);
    if (keep < size) {
      std::fprintf(stderr, "mailtally: intake log: cut %llu bytes of an unfinished write off %s\n",
                   static_cast<unsigned long long>(size - keep), path.c_str());
      if (::ftruncate(fd, static_cast<off_t>(keep)) != 0) {
        ::close(fd);
        fail("cannot cut " + path);
      }
      if (sync) ::fdatasync(fd);
    }
    ::close(fd);
    last = std::max(last, segments.back());
  }
  {
    std::lock_guard lock(log->mu_);
    log->first_segment_ = segments.empty() ? last + 1 : segments.front();
  }
  log->start_segment(last + 1);
  return log;
}

std::string Log::segment_path(std::uint64_t segment) const {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.log", static_cast<unsigned long long>(segment));
  return dir_ + "/" + name;
}

void Log::start_segment(std::uint64_t segment) {
  std::string path = segment_path(segment);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot create " + path);
  if (sync_) sync_dir(dir_);
  if (write_fd_ >= 0) ::close(write_fd_);
  write_fd_ = fd;
  std::lock_guard lock(mu_);
  end_ = Position{segment, 0};
}

void Log::seal(std::string& frame) {
  if (frame.size() < kHeader) throw std::logic_error("intake log: frame without its header");
  std::string_view payload = std::string_view(frame).substr(kHeader);
  if (payload.size() > kMaxFrame) throw std::runtime_error("intake log: entry too large");
  std::string header;
  put_u32(header, static_cast<std::uint32_t>(payload.size()));
  put_u32(header, crc_of(payload));
  frame.replace(0, kHeader, header);
}

void Log::append(const std::vector<std::string>& payloads) {
  std::vector<std::string> frames;
  frames.reserve(payloads.size());
  for (const auto& p : payloads) {
    frames.emplace_back(kHeader, '\0');
    frames.back().append(p);
    seal(frames.back());
  }
  append_frames(frames);
}

void Log::append_frames(const std::vector<std::string>& frames) {
  if (frames.empty()) return;
  std::vector<iovec> iov;
  iov.reserve(frames.size());
  std::uint64_t total = 0;
  for (const auto& f : frames) {
    iov.push_back(iovec{const_cast<char*>(f.data()), f.size()});
    total += f.size();
  }
  const Position before = end();
  // One writev per IOV_MAX frames; a short write continues where it stopped.
  std::size_t first = 0;
  while (first < iov.size()) {
    const int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
    ssize_t n = ::writev(write_fd_, iov.data() + first, count);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = errno;
      // Take the partial batch back so that no reader ever sees it; if even that fails, go on
      // in a fresh segment (the reader stops at the damage and skips to the next segment).
      if (::ftruncate(write_fd_, static_cast<off_t>(before.offset)) != 0) {
        start_segment(before.segment + 1);
      }
      errno = saved;
      fail("cannot write");
    }
    auto left = static_cast<std::size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (left > 0) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  if (sync_ && ::fdatasync(write_fd_) != 0) {
    int saved = errno;
    if (::ftruncate(write_fd_, static_cast<off_t>(before.offset)) != 0) {
      start_segment(before.segment + 1);
    }
    errno = saved;
    fail("cannot sync");
  }
  Position after{before.segment, before.offset + total};
  {
    std::lock_guard lock(mu_);
    end_ = after;
  }
  if (after.offset >= kSegmentBytes) start_segment(after.segment + 1);
}

Position Log::end() const {
  std::lock_guard lock(mu_);
  return end_;
}

Position Log::begin() const {
  std::lock_guard lock(mu_);
  return Position{first_segment_, 0};
}

int Log::reader_fd(std::uint64_t segment) {
  if (read_fd_ >= 0 && read_segment_ == segment) return read_fd_;
  if (read_fd_ >= 0) ::close(read_fd_);
  read_fd_ = ::open(segment_path(segment).c_str(), O_RDONLY | O_CLOEXEC);
  read_segment_ = segment;
  return read_fd_;  // -1 when the segment does not exist
}

std::uint64_t Log::segment_size(std::uint64_t segment) {
  int fd = reader_fd(segment);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

std::vector<std::string> Log::read(Position& from, std::size_t max_bytes) {
  std::vector<std::string> out;
  std::size_t got = 0;
  for (;;) {
    const Position last = end();
    if (from >= last) return out;
    // A segment before the writer's is complete: read it to its end.
    const std::uint64_t limit =
        from.segment == last.segment ? last.offset : segment_size(from.segment);
    int fd = reader_fd(from.segment);
    if (fd < 0 || from.offset >= limit) {
      from = Position{from.segment + 1, 0};  // finished (or missing): on to the next one
      continue;
    }
    if (got >= max_bytes && !out.empty()) return out;
    // One large read, cut into frames; a frame larger than the chunk is read on its own.
    std::uint64_t want = std::min<std::uint64_t>(limit - from.offset, kChunk);
    chunk_.resize(want);
    if (!pread_all(fd, chunk_.data(), want, from.offset)) want = 0;
    std::size_t at = 0;
    bool damaged = want < kHeader;
    while (!damaged && at + kHeader <= want) {
      std::uint32_t len = get_u32(chunk_.data() + at);
      std::uint32_t crc = get_u32(chunk_.data() + at + 4);
      if (len > kMaxFrame || from.offset + at + kHeader + len > limit) {
        damaged = true;
        break;
      }
      std::string payload;
      if (at + kHeader + len <= want) {
        payload.assign(chunk_.data() + at + kHeader, len);
      } else if (at == 0) {
        payload.resize(len);
        if (!pread_all(fd, payload.data(), len, from.offset + kHeader)) {
          damaged = true;
          break;
        }
      } else {
        break;  // the next frame continues past this chunk: read it from its start next time
      }
      if (crc_of(payload) != crc) {
        damaged = true;
        break;
      }
      at += kHeader + len;
      got += len;
      out.push_back(std::move(payload));
      if (got >= max_bytes) break;
    }
    from.offset += at;
    if (damaged) {
      std::fprintf(stderr,
                   "mailtally: intake log: damaged frame at %s offset %llu; skipping the rest of "
                   "that segment\n",
                   segment_path(from.segment).c_str(),
                   static_cast<unsigned long long>(from.offset));
      from = Position{from.segment + 1, 0};
    }
    if (got >= max_bytes) return out;
  }
}

void Log::drop_before(Position position) {
  std::uint64_t first;
  {
    std::lock_guard lock(mu_);
    first = first_segment_;
  }
  for (std::uint64_t s = first; s < position.segment; ++s) {
    if (read_fd_ >= 0 && read_segment_ == s) {
      ::close(read_fd_);
      read_fd_ = -1;
    }
    ::unlink(segment_path(s).c_str());
  }
  std::lock_guard lock(mu_);
  first_segment_ = std::max(first_segment_, position.segment);
}

}  // namespace mailtally::storage::intake
