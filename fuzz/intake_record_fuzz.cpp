// The intake log's entry decoder (what a restart reads back from disk) and the log's frame
// reader. Link: mailtally_storage.
//
// Properties: decode never crashes on any bytes; whatever decodes re-encodes to exactly the same
// bytes (the encoding is canonical); a log file holding the bytes opens (cutting what is not a
// whole, intact frame) and reads without crashing.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "storage/intake/log.hpp"
#include "storage/intake/record.hpp"

namespace {

std::string scratch_dir() {
  static std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "intake-fuzz-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    return tmpl;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailtally::storage::intake;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto entry = decode(bytes)) {
    std::string again;
    encode(*entry, again);
    if (again != bytes) __builtin_trap();
  }
  // The same bytes as a segment file left by a crash.
  std::string dir = scratch_dir() + "/log";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  if (FILE* f = std::fopen((dir + "/00000000000000000001.log").c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  auto log = Log::open(dir, false, 0);
  Position from = log->begin();
  std::size_t total = 0;
  for (;;) {
    auto frames = log->read(from, 1 << 16);
    if (frames.empty()) break;
    for (const auto& f : frames) total += f.size();
  }
  if (total > size) __builtin_trap();
  return 0;
}
