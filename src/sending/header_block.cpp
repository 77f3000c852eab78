#include "sending/header_block.hpp"

namespace mailtally::sending {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

namespace {

// End of the line starting at `pos` (index after its '\n', or size).
std::size_t line_end(std::string_view raw, std::size_t pos) {
  auto nl = raw.find('\n', pos);
  return nl == std::string_view::npos ? raw.size() : nl + 1;
}

std::string_view strip_eol(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool valid_name(std::string_view n) {
  if (n.empty()) return false;
  for (unsigned char c : n) {
    if (c <= 32 || c >= 127 || c == ':') return false;
  }
  return true;
}

}  // namespace

HeaderBlock split_headers(std::string_view raw) {
  HeaderBlock block;
  std::size_t pos = 0;
  while (pos < raw.size()) {
    std::size_t end = line_end(raw, pos);
    std::string_view line = strip_eol(raw.substr(pos, end - pos));
    if (line.empty()) {
      block.has_blank_line = true;
      block.body_offset = end;
      return block;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !block.headers.empty()) {
      block.headers.back().value += std::string(line);
      block.headers.back().end = end;
      pos = end;
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !valid_name(line.substr(0, colon))) break;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    block.headers.push_back({std::string(line.substr(0, colon)), std::string(value), pos, end});
    pos = end;
  }
  block.body_offset = pos;
  return block;
}

std::string remove_headers(std::string_view raw, const std::vector<std::string_view>& names) {
  HeaderBlock block = split_headers(raw);
  std::string out;
  out.reserve(raw.size());
  std::size_t copied = 0;
  for (const auto& h : block.headers) {
    bool drop = false;
    for (auto n : names) drop = drop || iequal(h.name, n);
    if (!drop) continue;
    out.append(raw.substr(copied, h.begin - copied));
    copied = h.end;
  }
  out.append(raw.substr(copied));
  return out;
}

std::string set_header(std::string_view raw, std::string_view name, std::string_view value) {
  HeaderBlock block = split_headers(raw);
  std::string field = std::string(name) + ": " + std::string(value) + "\r\n";
  for (const auto& h : block.headers) {
    if (!iequal(h.name, name)) continue;
    std::string rest = remove_headers(raw.substr(h.end), {name});
    return std::string(raw.substr(0, h.begin)) + field + rest;
  }
  return field + std::string(raw);
}

}  // namespace mailtally::sending
