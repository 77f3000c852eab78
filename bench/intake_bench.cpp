// Google Benchmark for the sending intake (src/storage/intake, storage/sqlite/sending_store):
//   BM_EncodeAndSeal   one send's entry (2 KB message, 1.2 KB mail, 1.2 KB Send event) encoded
//                      and framed, as each request thread does before acknowledging
//   BM_AppendBatch/N   N sealed frames appended with one writev (the intake thread's work per
//                      batch; page cache, no fdatasync)
//   BM_EnqueueIndexed  enqueue_async of 64-send batches into a SqliteSendingStore until every
//                      send is indexed into the tables (acknowledging plus the background
//                      indexing: the sustainable intake rate of one store)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "storage/intake/log.hpp"
#include "storage/intake/record.hpp"
#include "storage/sqlite/sending_store.hpp"

namespace mailtally::storage {
namespace {

intake::Entry sample(std::int64_t n) {
  intake::Entry e;
  e.message.message_id = "010001a22baa911c-317fa6bd-548c-4da5-b403-" + std::to_string(n);
  e.message.recipients = {"success@simulator.amazonses.com"};
  e.message.mail = std::string(1200, 'm');
  e.message.raw = std::string(2000, 'r');
  e.message.created_at = 1.8e9;
  e.events = {{"Send", std::string(1200, 'e')}};
  e.now = 1.8e9;
  return e;
}

std::filesystem::path scratch(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             (std::string(name) + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void BM_EncodeAndSeal(benchmark::State& state) {
  const auto entry = sample(1);
  for (auto _ : state) {
    std::string frame(intake::Log::kFrameHeader, '\0');
    intake::encode(entry, frame);
    intake::Log::seal(frame);
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeAndSeal);

void BM_AppendBatch(benchmark::State& state) {
  auto dir = scratch("intake_append_bench");
  {
    auto log = intake::Log::open(dir.string(), false, 0);
    std::vector<std::string> frames(static_cast<std::size_t>(state.range(0)));
    for (auto& f : frames) {
      f.assign(intake::Log::kFrameHeader, '\0');
      intake::encode(sample(1), f);
      intake::Log::seal(f);
    }
    for (auto _ : state) {
      log->append_frames(frames);
      state.PauseTiming();
      log->drop_before(log->end());  // keep the disk use flat
      state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AppendBatch)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);

void BM_EnqueueIndexed(benchmark::State& state) {
  auto dir = scratch("intake_index_bench");
  {
    auto store = SqliteSendingStore::open((dir / "mailtally.db").string());
    std::int64_t n = 0;
    for (auto _ : state) {
      std::atomic<int> done{0};
      for (int i = 0; i < 64; ++i) {
        auto e = sample(++n);
        store->enqueue_async(std::move(e.message), std::move(e.events), e.now,
                             [&done](std::int64_t, std::exception_ptr) { done.fetch_add(1); });
      }
      store->wait_readable();
      benchmark::DoNotOptimize(done.load());
    }
    state.SetItemsProcessed(state.iterations() * 64);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_EnqueueIndexed)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace mailtally::storage

BENCHMARK_MAIN();
