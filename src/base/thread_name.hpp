// Names the calling thread (as shown by top -H, perf and gdb), so that a profile of the
// server says which of its threads spends the time. Linux keeps 15 characters; longer names
// are cut. Best effort: a failure is ignored.
#pragma once

#include <string_view>

namespace mailtally::base {

void name_this_thread(std::string_view name);

// Linux: the calling thread only (best effort) gets nice kBackgroundNice: background work (the
// indexer, delivery, dispatch, checkpoints, folds) that yields to request handling whenever
// both want the CPU and catches up when it is free. Measured: with +5 the background took
// about a fifth of a saturated CPU from the HTTP workers; with +19 a burst of sends is
// acknowledged ~25% faster and its processing follows right after (docs/benchmarks.md).
// Under sustained overload the intake log bounds how far indexing may fall behind
// (storage/sqlite/sending_store.cpp).
inline constexpr int kBackgroundNice = 19;
void lower_this_thread_priority();

}  // namespace mailtally::base
