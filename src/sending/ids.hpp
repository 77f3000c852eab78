// SES-shaped identifiers and timestamps. Pure and thread-safe.
#pragma once

#include <string>

#include "base/clock.hpp"

namespace mailtally::sending {

// An SES MessageId: "0100" + 12 hex digits of the epoch milliseconds, '-', a random UUID, and
// "-000000", e.g. 0100019c2e3f4a5b-1d7f0c3e-8a2b-4c5d-9e6f-0a1b2c3d4e5f-000000 (60 chars).
std::string make_message_id(base::TimePoint now);
bool looks_like_message_id(const std::string& id);

// Epoch seconds of a time point.
double epoch_seconds(base::TimePoint t);
// SES record timestamps always carry milliseconds: 2016-10-14T05:02:16.645Z.
std::string iso_millis(double epoch_seconds);
// RFC 5322 date-time in UTC: "Tue, 14 Oct 2016 05:02:16 +0000".
std::string rfc5322_date(double epoch_seconds);

}  // namespace mailtally::sending
