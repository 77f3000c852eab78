#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "storage/intake/log.hpp"
#include "storage/intake/record.hpp"

namespace mailtally::storage::intake {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "intake-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

Entry sample(std::string id) {
  Entry e;
  e.message.message_id = std::move(id);
  e.message.configuration_set = "Set1";
  e.message.recipients = {"success@simulator.amazonses.com", std::string("b\0c@x", 5)};
  e.message.mail = R"({"messageId":"x"})";
  e.message.raw = std::string(3000, 'r');
  e.message.created_at = 1764460800.125;
  e.message.has_virus = true;
  e.message.finished = true;
  e.events = {{"Send", R"({"eventType":"Send"})"}, {"Rendering Failure", ""}};
  e.now = 1764460801.5;
  return e;
}

std::vector<std::string> read_all(Log& log, Position& from) {
  std::vector<std::string> out;
  for (;;) {
    auto got = log.read(from, 1 << 20);
    if (got.empty()) return out;
    for (auto& g : got) out.push_back(std::move(g));
  }
}

std::vector<fs::path> segments(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".log") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(IntakeRecord, RoundTripsEveryField) {
  std::string bytes;
  encode(sample("m1"), bytes);
  auto back = decode(bytes);
  ASSERT_TRUE(back);
  const auto& m = back->message;
  EXPECT_EQ(m.message_id, "m1");
  EXPECT_EQ(m.configuration_set, "Set1");
  EXPECT_EQ(m.recipients, sample("m1").message.recipients);
  EXPECT_EQ(m.mail, R"({"messageId":"x"})");
  EXPECT_EQ(m.raw, std::string(3000, 'r'));
  EXPECT_EQ(m.created_at, 1764460800.125);
  EXPECT_TRUE(m.has_virus);
  EXPECT_FALSE(m.tags_from_header);
  EXPECT_TRUE(m.finished);
  ASSERT_EQ(back->events.size(), 2u);
  EXPECT_EQ(back->events[1].event_type, "Rendering Failure");
  EXPECT_EQ(back->events[1].record, "");
  EXPECT_EQ(back->now, 1764460801.5);
}

TEST(IntakeRecord, RejectsTruncatedExtendedAndForeignBytes) {
  std::string bytes;
  encode(sample("m1"), bytes);
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{40}, bytes.size() - 1}) {
    EXPECT_FALSE(decode(std::string_view(bytes).substr(0, cut))) << cut;
  }
  EXPECT_FALSE(decode(bytes + "x"));
  std::string other = bytes;
  other[0] = 2;  // unknown version
  EXPECT_FALSE(decode(other));
}

TEST(IntakeLog, ReadsBackWhatWasAppendedInOrderAcrossReopens) {
  TempDir dir;
  Position from;
  {
    auto log = Log::open(dir.path, false, 0);
    from = log->begin();
    log->append({"a", "bb"});
    log->append({"ccc"});
    EXPECT_EQ(read_all(*log, from), (std::vector<std::string>{"a", "bb", "ccc"}));
    log->append({std::string(3u << 20, 'x')});  // larger than one read chunk
    auto big = read_all(*log, from);
    ASSERT_EQ(big.size(), 1u);
    EXPECT_EQ(big[0].size(), 3u << 20);
    EXPECT_EQ(from, log->end());
  }
  auto log = Log::open(dir.path, false, 0);  // appends go to a new segment
  log->append({"d"});
  EXPECT_GT(log->end().segment, from.segment);
  EXPECT_EQ(read_all(*log, from), (std::vector<std::string>{"d"}));
}

TEST(IntakeLog, OpenCutsATornTailAndKeepsWhatWasWhole) {
  TempDir dir;
  {
    auto log = Log::open(dir.path, false, 0);
    log->append({"one", "two"});
  }
  auto files = segments(dir.path);
  ASSERT_EQ(files.size(), 1u);
  const auto whole = fs::file_size(files[0]);
  {
    std::ofstream f(files[0], std::ios::app | std::ios::binary);
    f.write("\x10\x00\x00\x00\x01\x02", 6);  // a frame header cut short by a crash
  }
  auto log = Log::open(dir.path, false, 0);
  EXPECT_EQ(fs::file_size(files[0]), whole);
  log->append({"three"});
  Position from = log->begin();
  EXPECT_EQ(read_all(*log, from), (std::vector<std::string>{"one", "two", "three"}));
}

TEST(IntakeLog, ADamagedFrameEndsOnlyItsSegment) {
  TempDir dir;
  {
    auto log = Log::open(dir.path, false, 0);
    log->append({"first", "second"});
  }
  {
    auto log = Log::open(dir.path, false, 0);
    log->append({"later"});
  }
  auto files = segments(dir.path);
  ASSERT_EQ(files.size(), 2u);
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8 + 5 + 8);  // the payload of "second"
    f.write("X", 1);
  }
  auto log = Log::open(dir.path, false, 0);
  Position from = log->begin();
  EXPECT_EQ(read_all(*log, from), (std::vector<std::string>{"first", "later"}));
}

TEST(IntakeLog, PositionsKeepGrowingAndOldSegmentsAreDropped) {
  TempDir dir;
  Position indexed;
  {
    auto log = Log::open(dir.path, false, 41);  // an indexer stored segment 41 before
    EXPECT_EQ(log->end().segment, 42u);
    log->append({"a"});
    indexed = log->end();
  }
  auto log = Log::open(dir.path, false, indexed.segment);
  EXPECT_EQ(log->end().segment, 43u);
  log->append({"b"});
  Position from = indexed;
  EXPECT_EQ(read_all(*log, from), (std::vector<std::string>{"b"}));
  log->drop_before(from);
  EXPECT_EQ(segments(dir.path).size(), 1u);
  EXPECT_EQ(log->begin().segment, 43u);
}

TEST(IntakeLog, OneProcessAtATime) {
  TempDir dir;
  auto first = Log::open(dir.path, false, 0);
  ASSERT_TRUE(first);
  EXPECT_FALSE(Log::open(dir.path, false, 0));  // the lock is held (per open file)
  first.reset();
  EXPECT_TRUE(Log::open(dir.path, false, 0));
}

TEST(IntakeLog, SegmentsRollOverAfterTheirSize) {
  TempDir dir;
  auto log = Log::open(dir.path, false, 0);
  Position from = log->begin();
  const std::string chunk(8u << 20, 'z');
  for (int i = 0; i < 9; ++i) log->append({chunk});  // 72 MiB: past one segment
  EXPECT_GE(segments(dir.path).size(), 2u);
  EXPECT_EQ(read_all(*log, from).size(), 9u);
  log->drop_before(from);
  EXPECT_EQ(segments(dir.path).size(), 1u);
}

}  // namespace
}  // namespace mailtally::storage::intake
