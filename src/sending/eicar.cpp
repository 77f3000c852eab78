// Compiled into both mailtally_sending and the MIME module (both need it).
#include "sending/mime_parse.hpp"

namespace mailtally::sending {

bool contains_eicar(std::string_view data) {
  static constexpr std::string_view kEicar = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!";
  return data.find(kEicar) != std::string_view::npos;
}

}  // namespace mailtally::sending
