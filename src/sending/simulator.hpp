// The SES mailbox simulator (spec 11): exact local parts on simulator.amazonses.com, with an
// optional "+label". Pure and thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace mailtally::sending {

enum class SimulatorOutcome {
  Success,          // Delivery
  Bounce,           // Bounce Permanent/General 5.1.1
  Ooto,             // Delivery (the auto-reply is not modelled)
  Complaint,        // Delivery, then Complaint (abuse)
  SuppressionList,  // Bounce Permanent/Suppressed
};

// nullopt when `address` (a bare a@b) is not a simulator address. The domain compares
// case-insensitively (DNS); the local part must be exactly one of the documented names.
std::optional<SimulatorOutcome> classify_simulator(std::string_view address);

}  // namespace mailtally::sending
