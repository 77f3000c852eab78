// One provider per API. Each registers its implemented operations in the table; the rest of the
// model answers NotImplemented through the gateway. `control` must outlive the table.
#pragma once

#include "base/clock.hpp"
#include "domain/control_plane.hpp"
#include "domain/suppression.hpp"
#include "services/gateway.hpp"
#include "services/operation_table.hpp"

namespace mailtally::services {

void register_ses_v1(OperationTable& table, domain::ControlPlane& control);
void register_ses_v2(OperationTable& table, domain::ControlPlane& control);
// The SES v2 suppression list (ses_suppression.cpp). Register after register_ses_v2: it wraps
// GetAccount to report the account's SuppressionAttributes. `store` and `clock` must outlive
// the table.
void register_ses_suppression(OperationTable& table, domain::SuppressionStore& store,
                              const base::Clock& clock);

// Installs each API's validation-error mapping on the gateway.
void install_validation_mappers(Gateway& gateway);

}  // namespace mailtally::services
