// A small streaming XML writer for Query-protocol responses: elements, one attribute, escaped
// text, appended to one string. Not thread-safe; one writer per response.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailtally::wire {

class XmlWriter {
 public:
  explicit XmlWriter(std::string& out) : out_(out) {}

  void open(std::string_view name);
  void open_with_xmlns(std::string_view name, std::string_view xmlns);
  void close();
  // <name>text</name>, text escaped.
  void element(std::string_view name, std::string_view text);
  void text(std::string_view text);  // escaped into the open element

  // Escapes &, <, >, " and replaces characters XML 1.0 cannot carry (C0 controls other than
  // tab, newline and carriage return) with U+FFFD.
  static void escape_into(std::string& out, std::string_view text);

 private:
  std::string& out_;
  std::vector<std::string> open_;  // names of the open elements, innermost last
};

}  // namespace mailtally::wire
