// Loads libmailtally_mime.so (GMime and GLib behind it) on first use and forwards
// parse_message / parse_address_list / rewrite_html_parts to it. Keeping GMime out of the
// executable's start-up halves the time from exec to /health on small VMs, where mapping and
// relocating GLib's libraries dominates.
//
// Search order: $MAILTALLY_MIME_MODULE, then beside the executable, then the build tree.
// Thread-safe: the module is loaded once (std::call_once) and never unloaded.
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

#include "sending/mime_parse.hpp"
#include "sending/mime_rewrite.hpp"

namespace mailtally::sending {
namespace {

using ParseFn = bool (*)(const char*, std::size_t, ParsedMessage*, std::string*);
using AddressFn = void (*)(const char*, std::size_t, std::vector<std::string>*);
using RewriteFn = bool (*)(const char*, std::size_t, const HtmlRewrite*, std::string*);

struct Module {
  ParseFn parse = nullptr;
  AddressFn addresses = nullptr;
  RewriteFn rewrite = nullptr;
};

std::string executable_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string path(buf, static_cast<std::size_t>(n));
  return path.substr(0, path.rfind('/'));
}

Module load() {
  std::string tried;
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("MAILTALLY_MIME_MODULE"); env && *env) {
    candidates.emplace_back(env);
  }
  candidates.push_back(executable_dir() + "/libmailtally_mime.so");
  candidates.emplace_back(MAILTALLY_MIME_MODULE_PATH);
  for (const auto& path : candidates) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      tried += "\n  " + path + ": " + ::dlerror();
      continue;
    }
    Module m;
    m.parse = reinterpret_cast<ParseFn>(::dlsym(handle, "mailtally_mime_parse_message"));
    m.addresses = reinterpret_cast<AddressFn>(::dlsym(handle, "mailtally_mime_parse_address_list"));
    m.rewrite = reinterpret_cast<RewriteFn>(::dlsym(handle, "mailtally_mime_rewrite_html_parts"));
    if (m.parse && m.addresses && m.rewrite) return m;
    tried += "\n  " + path + ": entry points missing";
  }
  throw std::runtime_error("cannot load the MIME module libmailtally_mime.so:" + tried);
}

const Module& module() {
  static std::once_flag once;
  static Module m;
  std::call_once(once, [] { m = load(); });
  return m;
}

}  // namespace

std::optional<ParsedMessage> parse_message(std::string_view raw, std::string* error) {
  ParsedMessage out;
  if (!module().parse(raw.data(), raw.size(), &out, error)) return std::nullopt;
  return out;
}

std::vector<std::string> parse_address_list(std::string_view value) {
  std::vector<std::string> out;
  module().addresses(value.data(), value.size(), &out);
  return out;
}

std::optional<std::string> rewrite_html_parts(std::string_view raw, const HtmlRewrite& rewrite) {
  std::string out;
  if (!module().rewrite(raw.data(), raw.size(), &rewrite, &out)) return std::nullopt;
  return out;
}

}  // namespace mailtally::sending
