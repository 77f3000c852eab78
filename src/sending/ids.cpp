#include "sending/ids.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "base/ids.hpp"

namespace mailtally::sending {

std::string make_message_id(base::TimePoint now) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "0100%012llx",
                static_cast<unsigned long long>(ms) & 0xffffffffffffULL);
  return std::string(prefix) + "-" + base::uuid4() + "-000000";
}

bool looks_like_message_id(const std::string& id) {
  if (id.size() != 60 || id.compare(0, 4, "0100") != 0 || id.compare(53, 7, "-000000") != 0) {
    return false;
  }
  for (std::size_t i = 0; i < 53; ++i) {
    char c = id[i];
    bool dash = i == 16 || i == 25 || i == 30 || i == 35 || i == 40;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

double epoch_seconds(base::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

namespace {
std::tm utc(double epoch, long long* millis) {
  double whole = std::floor(epoch);
  long long ms = std::llround((epoch - whole) * 1000.0);
  auto secs = static_cast<std::time_t>(whole);
  if (ms >= 1000) {
    ms -= 1000;
    ++secs;
  }
  if (millis) *millis = ms;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}
}  // namespace

std::string iso_millis(double epoch) {
  long long ms = 0;
  std::tm tm = utc(epoch, &ms);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string rfc5322_date(double epoch) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm = utc(std::floor(epoch), nullptr);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

}  // namespace mailtally::sending
