// Internal to SqliteSendingStore: its cached statements. Slots 18.. follow the configuration
// store's (statements.hpp, 0..17) so both may share one connection cache.
#pragma once

#include "storage/sqlite/statements.hpp"

namespace mailtally::storage::sqlite {

inline constexpr Sql kInsertMessage{
    18,
    "INSERT INTO messages (message_id, configuration_set, recipients, mail, raw, has_virus, "
    "tags_from_header, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"};
inline constexpr Sql kInsertEvent{19,
                                  "INSERT INTO events (message_id, configuration_set, "
                                  "event_type, record, created_at) VALUES (?1, ?2, ?3, ?4, ?5)"};
inline constexpr Sql kQueued{
    20,
    "SELECT id, message_id, configuration_set, recipients, mail, raw, created_at, has_virus, "
    "tags_from_header, remaining, attempts FROM messages WHERE state = 0 AND id > ?1 "
    "AND id % ?3 = ?4 AND next_attempt_at <= ?5 ORDER BY id LIMIT ?2"};
inline constexpr Sql kFinishMessage{
    21, "UPDATE messages SET state = 1, finished_at = ?2 WHERE id = ?1 AND state = 0"};
inline constexpr Sql kInsertMailbox{
    22, "INSERT INTO mailbox (message_id, recipient, delivered_at) VALUES (?1, ?2, ?3)"};
inline constexpr Sql kEvents{
    23,
    "SELECT e.seq, e.message_id, e.configuration_set, e.event_type, e.record, e.created_at, "
    "coalesce(m.tags_from_header, 0) FROM events AS e "
    "LEFT JOIN messages AS m ON m.message_id = e.message_id "
    "WHERE e.seq > ?1 AND (?2 IS NULL OR e.configuration_set = ?2) "
    "AND (?3 IS NULL OR e.event_type = ?3) AND (?4 IS NULL OR e.message_id = ?4) "
    "ORDER BY e.seq LIMIT ?5"};
// The same read when the filter names a message or a configuration set: a separate statement
// each, so SQLite walks that column's index instead of the whole log.
inline constexpr Sql kEventsOfMessage{
    32,
    "SELECT e.seq, e.message_id, e.configuration_set, e.event_type, e.record, e.created_at, "
    "coalesce(m.tags_from_header, 0) FROM events AS e INDEXED BY events_by_message "
    "LEFT JOIN messages AS m ON m.message_id = e.message_id "
    "WHERE e.message_id = ?4 AND e.seq > ?1 AND (?2 IS NULL OR e.configuration_set = ?2) "
    "AND (?3 IS NULL OR e.event_type = ?3) ORDER BY e.seq LIMIT ?5"};
inline constexpr Sql kEventsOfSet{
    33,
    "SELECT e.seq, e.message_id, e.configuration_set, e.event_type, e.record, e.created_at, "
    "coalesce(m.tags_from_header, 0) FROM events AS e INDEXED BY events_by_set "
    "LEFT JOIN messages AS m ON m.message_id = e.message_id "
    "WHERE e.configuration_set = ?2 AND e.seq > ?1 AND (?3 IS NULL OR e.event_type = ?3) "
    "AND ?4 IS NULL ORDER BY e.seq LIMIT ?5"};
inline constexpr Sql kMailbox{
    24,
    "SELECT b.id, b.message_id, b.recipient, b.delivered_at, m.mail FROM mailbox AS b "
    "JOIN messages AS m ON m.message_id = b.message_id "
    "WHERE (?1 IS NULL OR b.recipient = ?1 COLLATE NOCASE) ORDER BY b.id DESC LIMIT ?2"};
inline constexpr Sql kMailboxMessage{
    25,
    "SELECT b.id, b.message_id, b.recipient, b.delivered_at, m.mail, m.raw FROM mailbox AS b "
    "JOIN messages AS m ON m.message_id = b.message_id WHERE b.message_id = ?1 "
    "ORDER BY b.id LIMIT 1"};
inline constexpr Sql kRawMessage{26, "SELECT raw FROM messages WHERE message_id = ?1"};
inline constexpr Sql kGetCursor{
    27, "SELECT last_seq FROM event_cursors WHERE configuration_set = ?1 AND destination = ?2"};
inline constexpr Sql kAdvanceCursor{
    28,
    "INSERT INTO event_cursors (configuration_set, destination, last_seq) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (configuration_set, destination) DO UPDATE SET "
    "last_seq = max(last_seq, excluded.last_seq)"};

// Open/click tracking (slot 31: the last one, to keep clear of slots other features add).
inline constexpr Sql kMessageForEvents{
    31, "SELECT configuration_set, mail, created_at FROM messages WHERE message_id = ?1"};

// The intake log's indexing position (intake_position: one row).
inline constexpr Sql kIntakePosition{34, "SELECT segment, byte_offset FROM intake_position"};
inline constexpr Sql kSetIntakePosition{
    35,
    "INSERT INTO intake_position (id, segment, byte_offset) VALUES (1, ?1, ?2) "
    "ON CONFLICT (id) DO UPDATE SET segment = excluded.segment, byte_offset = "
    "excluded.byte_offset"};

constexpr bool sending_slots_are_distinct() {
  constexpr const Sql* all[] = {
      &kInsertMessage,   &kInsertEvent, &kQueued,         &kFinishMessage,
      &kInsertMailbox,   &kEvents,      &kMailbox,        &kMailboxMessage,
      &kRawMessage,      &kGetCursor,   &kAdvanceCursor,  &kMessageForEvents,
      &kEventsOfMessage, &kEventsOfSet, &kIntakePosition, &kSetIntakePosition};
  bool used[Connection::kMaxCachedStatements] = {};
  for (const Sql* sql : all) {
    if (sql->slot < 18 || sql->slot >= Connection::kMaxCachedStatements || used[sql->slot]) {
      return false;
    }
    used[sql->slot] = true;
  }
  return true;
}
static_assert(sending_slots_are_distinct());

}  // namespace mailtally::storage::sqlite
