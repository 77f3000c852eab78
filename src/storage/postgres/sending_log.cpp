#include "storage/postgres/sending_log.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>
#include <unordered_map>

namespace mailtally::storage::pg_sending {

namespace json = boost::json;

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

void append_events(pg::Connection& conn, const std::vector<EventRow>& rows) {
  if (rows.empty()) return;
  // The lock and the block of seqs in one statement (see sending_store.hpp).
  auto head = conn.query("UPDATE event_log_head SET last_seq = last_seq + $1 RETURNING last_seq",
                         {static_cast<std::int64_t>(rows.size())});
  if (head.rows() != 1) throw std::runtime_error("sending store: event_log_head row missing");
  std::int64_t seq = head.integer(0, 0) - static_cast<std::int64_t>(rows.size());
  for (std::size_t first = 0; first < rows.size(); first += kRowsPerStatement) {
    std::size_t n = std::min(kRowsPerStatement, rows.size() - first);
    std::string sql =
        "INSERT INTO events (seq, message_id, configuration_set, event_type, record, created_at) "
        "VALUES ";
    append_values(sql, n, 6);
    std::vector<pg::Param> params;
    params.reserve(n * 6);
    for (std::size_t i = first; i < first + n; ++i) {
      const auto& r = rows[i];
      params.emplace_back(++seq);
      params.emplace_back(r.message_id);
      params.emplace_back(r.configuration_set);
      params.emplace_back(std::string_view(r.event->event_type));
      params.emplace_back(std::string_view(r.event->record));
      params.emplace_back(r.created_at);
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
      recipients.push_back(to_json(m.recipients));
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

std::string to_json(const std::vector<std::string>& strings) {
  json::array a;
  for (const auto& s : strings) a.emplace_back(s);
  return json::serialize(a);
}

std::vector<std::string> from_json(std::string_view text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& x : v.as_array()) {
    if (x.is_string()) out.emplace_back(x.as_string());
  }
  return out;
}

}  // namespace mailtally::storage::pg_sending
