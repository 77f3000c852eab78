// The template engine (src/templates): parse any bytes as a template, render the parsed ones
// against fuzz-chosen JSON data. Input: "<template>\x00<data JSON>" (no NUL: empty data).
// Link: mailtally_templates, Boost::json.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "templates/template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nul = in.find('\0');
  std::string_view source = in.substr(0, nul);
  std::string_view json_text = nul == std::string_view::npos ? "{}" : in.substr(nul + 1);
  auto tpl = mailtally::templates::Template::parse(source);
  if (!tpl) {
    if (tpl.error().message.empty()) __builtin_trap();
    return 0;
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json_text, ec);
  if (ec) v = boost::json::object();
  auto out = tpl->render(v);
  if (out && out->size() > mailtally::templates::kMaxRenderedBytes) __builtin_trap();
  if (!out && !out.error().too_large && out.error().attribute.empty()) __builtin_trap();
  return 0;
}
