// Names the calling thread (as shown by top -H, perf and gdb), so that a profile of the
// server says which of its threads spends the time. Linux keeps 15 characters; longer names
// are cut. Best effort: a failure is ignored.
#pragma once

#include <string_view>

namespace mailtally::base {

void name_this_thread(std::string_view name);

// Linux: nice +5 for the calling thread only (best effort), for background work that should
// yield to request handling when both want the CPU.
void lower_this_thread_priority();

}  // namespace mailtally::base
