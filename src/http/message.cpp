#include "http/message.hpp"

#include <algorithm>

namespace mailtally::http {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lx = (x >= 'A' && x <= 'Z') ? x + 32 : x;
           auto ly = (y >= 'A' && y <= 'Z') ? y + 32 : y;
           return lx == ly;
         });
}

const std::string* Headers::find(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (iequals(k, name)) return &v;
  }
  return nullptr;
}

std::string Headers::joined(std::string_view name) const {
  std::string out;
  bool first = true;
  for (const auto& [k, v] : items_) {
    if (!iequals(k, name)) continue;
    if (!first) out += ',';
    out += v;
    first = false;
  }
  return out;
}

void Headers::set(std::string name, std::string value) {
  for (auto& [k, v] : items_) {
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  add(std::move(name), std::move(value));
}

std::string_view Request::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view Request::query() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

void Deferred::complete(Finisher finish) {
  std::function<void(Finisher)> resume;
  {
    std::lock_guard lock(mu_);
    if (done_) return;  // a second completion is a caller bug; the first one wins
    done_ = true;
    if (!resume_) {
      finish_ = std::move(finish);
      return;
    }
    resume = std::move(resume_);
  }
  resume(std::move(finish));
}

void Deferred::on_complete(std::function<void(Finisher)> resume) {
  Finisher ready;
  {
    std::lock_guard lock(mu_);
    if (!done_) {
      resume_ = std::move(resume);
      return;
    }
    ready = std::move(finish_);
  }
  resume(std::move(ready));
}

}  // namespace mailtally::http
