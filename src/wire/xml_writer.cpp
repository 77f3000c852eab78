#include "wire/xml_writer.hpp"

namespace mailtally::wire {

void XmlWriter::escape_into(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\r':
        out += "&#xD;";  // kept through XML end-of-line normalization
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
    }
  }
}

void XmlWriter::open(std::string_view name) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  open_.emplace_back(name);
}

void XmlWriter::open_with_xmlns(std::string_view name, std::string_view xmlns) {
  out_ += '<';
  out_ += name;
  out_ += " xmlns=\"";
  escape_into(out_, xmlns);
  out_ += "\">";
  open_.emplace_back(name);
}

void XmlWriter::close() {
  out_ += "</";
  out_ += open_.back();
  out_ += '>';
  open_.pop_back();
}

void XmlWriter::element(std::string_view name, std::string_view text) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  escape_into(out_, text);
  out_ += "</";
  out_ += name;
  out_ += '>';
}

void XmlWriter::text(std::string_view t) { escape_into(out_, t); }

}  // namespace mailtally::wire
