// One entry of the intake log (storage/intake/log.hpp): an accepted message with the events of
// its acceptance, exactly what SendingStore::enqueue was given.
//
// Encoding (little-endian, no padding): u32 version (1); the message's message_id,
// configuration_set, mail and raw as u32 length + bytes; u32 recipient count, each as u32
// length + bytes; f64 created_at; u8 flags (1 has_virus, 2 tags_from_header, 4 finished);
// u32 event count, each as event_type and record (u32 length + bytes); f64 now.
// The log's framing (length and CRC) is around this, not part of it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/sending_store.hpp"

namespace mailtally::storage::intake {

struct Entry {
  domain::QueuedMessage message;  // id, remaining and attempts are not recorded
  std::vector<domain::NewEvent> events;
  double now = 0;  // the enqueue's time (event created_at)
};

// Appends the encoding of `entry` to `out`.
void encode(const Entry& entry, std::string& out);

// The entry encoded in `bytes`, or nullopt when `bytes` is not exactly one valid encoding
// (short, trailing bytes, unknown version or flags, counts past the end). Never throws on
// bad input (fuzz/intake_record_fuzz.cpp).
std::optional<Entry> decode(std::string_view bytes);

}  // namespace mailtally::storage::intake
