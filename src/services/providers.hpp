// One provider per API. Each registers its implemented operations in the table; the rest of the
// model answers NotImplemented through the gateway. `control` must outlive the table.
#pragma once

#include "domain/control_plane.hpp"
#include "services/gateway.hpp"
#include "services/operation_table.hpp"

namespace mailtally::services {

void register_ses_v1(OperationTable& table, domain::ControlPlane& control);
void register_ses_v2(OperationTable& table, domain::ControlPlane& control);

// Installs each API's validation-error mapping on the gateway.
void install_validation_mappers(Gateway& gateway);

}  // namespace mailtally::services
