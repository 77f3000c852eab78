// Internal to PgSendingStore: the writes shared by its enqueue committer and its other
// transactions (the message rows and the event log), and the JSON of recipient lists.
//
// Every function runs on the caller's connection inside the caller's open transaction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/sending_store.hpp"
#include "pg/connection.hpp"

namespace mailtally::storage::pg_sending {

// One event row to append: views into data the caller keeps alive for the call.
struct EventRow {
  std::string_view message_id;
  std::string_view configuration_set;
  const domain::NewEvent* event;
  double created_at;
};

// Appends `rows` to the event log in their order. Call it LAST in the transaction, right before
// COMMIT: it takes the row lock of event_log_head (the cluster-wide order of event appends,
// held until the transaction ends) and assigns the seqs from it (see sending_store.hpp).
void append_events(pg::Connection& conn, const std::vector<EventRow>& rows);

// One message row to insert: stored queued, or finished at `now` when `message->finished`.
struct MessageRow {
  const domain::QueuedMessage* message;
  double now;
};

// Inserts `rows` and returns their queue ids in the same order. Throws pg::Error (e.g.
// unique_violation on a message id already stored).
std::vector<std::int64_t> insert_messages(pg::Connection& conn,
                                          const std::vector<MessageRow>& rows);

// One built-in mailbox copy to store.
struct MailboxRow {
  std::string_view message_id;
  std::string_view recipient;
  double delivered_at;
};

// Inserts `rows` in their order (mailbox ids increase in that order).
void insert_mailbox(pg::Connection& conn, const std::vector<MailboxRow>& rows);

}  // namespace mailtally::storage::pg_sending
