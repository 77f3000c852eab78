#include "sending/simulator.hpp"

#include "sending/header_block.hpp"

namespace mailtally::sending {

std::optional<SimulatorOutcome> classify_simulator(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  if (!iequal(address.substr(at + 1), "simulator.amazonses.com")) return std::nullopt;
  std::string_view local = address.substr(0, at);
  if (auto plus = local.find('+'); plus != std::string_view::npos) local = local.substr(0, plus);
  if (local == "success") return SimulatorOutcome::Success;
  if (local == "bounce") return SimulatorOutcome::Bounce;
  if (local == "ooto") return SimulatorOutcome::Ooto;
  if (local == "complaint") return SimulatorOutcome::Complaint;
  if (local == "suppressionlist") return SimulatorOutcome::SuppressionList;
  return std::nullopt;
}

}  // namespace mailtally::sending
