#include "storage/postgres/sending_log.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "storage/json_codec.hpp"

namespace mailtally::storage::pg_sending {

namespace {

// Rows per multi-row INSERT: keeps a statement well under PostgreSQL's 65,535 parameters.
constexpr std::size_t kRowsPerStatement = 500;

// Appends "($1, $2, $3), ($4, $5, $6)" for `rows` rows of `columns` parameters.
void append_values(std::string& sql, std::size_t rows, std::size_t columns) {
  std::size_t n = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (std::size_t c = 0; c < columns; ++c) {
      if (c) sql += ", ";
      sql += '$';
      sql += std::to_string(++n);
    }
    sql += ')';
  }
}

}  // namespace

namespace {

void add_event_params(std::vector<pg::Param>& params, const EventRow& r) {
  params.emplace_back(r.message_id);
  params.emplace_back(r.configuration_set);
  params.emplace_back(std::string_view(r.event->event_type));
  params.emplace_back(std::string_view(r.event->record));
  params.emplace_back(r.created_at);
}

constexpr std::string_view kInsertEvents =
    "INSERT INTO events (seq, message_id, configuration_set, event_type, record, created_at) ";

}  // namespace

void append_events(pg::Connection& conn, const std::vector<EventRow>& rows) {
  if (rows.empty()) return;
  const auto total = static_cast<std::int64_t>(rows.size());
  if (rows.size() <= kRowsPerStatement) {
    // The common case in ONE statement: the head row's lock, the block of seqs and the rows,
    // so the lock is held for this statement and the COMMIT only (see sending_store.hpp).
    std::string sql =
        "WITH head AS (UPDATE event_log_head SET last_seq = last_seq + $1 RETURNING last_seq) " +
        std::string(kInsertEvents) +
        "SELECT head.last_seq - $1 + v.n, v.m, v.s, v.t, v.r, v.c FROM head, (VALUES ";
    std::vector<pg::Param> params;
    params.reserve(rows.size() * 5 + 1);
    params.emplace_back(total);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::size_t base = params.size();
      add_event_params(params, rows[i]);
      sql += i == 0 ? "(" : ", (";
      sql += std::to_string(i + 1);
      for (std::size_t c = 0; c < 5; ++c) {
        sql += ", $" + std::to_string(base + c + 1);
        if (i == 0 && c == 4) sql += "::float8";  // the first row types the VALUES columns
      }
      sql += ')';
    }
    sql += ") AS v (n, m, s, t, r, c)";
    if (conn.run(sql, params) != total) {
      throw std::runtime_error("sending store: event_log_head row missing");
    }
    return;
  }
  // Larger batches: the seq block first (taking the lock), then the rows in chunks.
  auto head =
      conn.query("UPDATE event_log_head SET last_seq = last_seq + $1 RETURNING last_seq", {total});
  if (head.rows() != 1) throw std::runtime_error("sending store: event_log_head row missing");
  std::int64_t seq = head.integer(0, 0) - total;
  for (std::size_t first = 0; first < rows.size(); first += kRowsPerStatement) {
    std::size_t n = std::min(kRowsPerStatement, rows.size() - first);
    std::string sql = std::string(kInsertEvents) + "VALUES ";
    append_values(sql, n, 6);
    std::vector<pg::Param> params;
    params.reserve(n * 6);
    for (std::size_t i = first; i < first + n; ++i) {
      params.emplace_back(++seq);
      add_event_params(params, rows[i]);
    }
    conn.run(sql, params);
  }
}

std::vector<std::int64_t> insert_messages(pg::Connection& conn,
                                          const std::vector<MessageRow>& messages) {
  std::vector<std::int64_t> ids;
  ids.reserve(messages.size());
  for (std::size_t first = 0; first < messages.size(); first += kRowsPerStatement) {
    std::size_t n = std::min(kRowsPerStatement, messages.size() - first);
    std::string sql =
        "INSERT INTO messages (message_id, configuration_set, recipients, mail, raw, has_virus, "
        "tags_from_header, created_at, state, finished_at) VALUES ";
    append_values(sql, n, 10);
    sql += " RETURNING id, message_id";
    std::vector<std::string> recipients;  // owns the JSON the parameters point into
    recipients.reserve(n);
    std::vector<pg::Param> params;
    params.reserve(n * 10);
    for (std::size_t i = first; i < first + n; ++i) {
      const auto& m = *messages[i].message;
      recipients.push_back(encode_strings(m.recipients));
      params.emplace_back(std::string_view(m.message_id));
      params.emplace_back(std::string_view(m.configuration_set));
      params.emplace_back(std::string_view(recipients.back()));
      params.emplace_back(std::string_view(m.mail));
      params.emplace_back(pg::Bytes{m.raw});
      params.emplace_back(m.has_virus);
      params.emplace_back(m.tags_from_header);
      params.emplace_back(m.created_at);
      params.emplace_back(std::int64_t{m.finished ? 1 : 0});
      if (m.finished) {
        params.emplace_back(messages[i].now);
      } else {
        params.emplace_back(nullptr);
      }
    }
    auto res = conn.query(sql, params);
    // RETURNING order is not promised to follow VALUES: match rows by their unique message id.
    std::unordered_map<std::string_view, std::int64_t> by_message;
    for (int r = 0; r < res.rows(); ++r) by_message.emplace(res.text(r, 1), res.integer(r, 0));
    for (std::size_t i = first; i < first + n; ++i) {
      auto it = by_message.find(messages[i].message->message_id);
      if (it == by_message.end()) throw std::runtime_error("sending store: insert lost a row");
      ids.push_back(it->second);
    }
  }
  return ids;
}

void insert_mailbox(pg::Connection& conn, const std::vector<MailboxRow>& rows) {
  for (std::size_t first = 0; first < rows.size(); first += kRowsPerStatement) {
    std::size_t n = std::min(kRowsPerStatement, rows.size() - first);
    std::string sql = "INSERT INTO mailbox (message_id, recipient, delivered_at) VALUES ";
    append_values(sql, n, 3);
    std::vector<pg::Param> params;
    params.reserve(n * 3);
    for (std::size_t i = first; i < first + n; ++i) {
      params.emplace_back(rows[i].message_id);
      params.emplace_back(rows[i].recipient);
      params.emplace_back(rows[i].delivered_at);
    }
    conn.run(sql, params);
  }
}

}  // namespace mailtally::storage::pg_sending
