// SES email templates, one store shared by both APIs:
// - ses_templates.cpp: v1 Create/Update/Delete/Get/ListTemplates and TestRenderTemplate; v2
//   Create/Get/List/Update/DeleteEmailTemplate and TestRenderEmailTemplate.
// - ses_templates_send.cpp: v1 SendTemplatedEmail and SendBulkTemplatedEmail; v2 SendBulkEmail
//   and SendEmail with Content.Template (wrapping the SendEmail handler already registered by
//   register_ses_send, which keeps Simple and Raw content).
// Errors as each API names them (v1 AlreadyExists, TemplateDoesNotExist, InvalidTemplate,
// InvalidRenderingParameter, MissingRenderingAttribute, LimitExceeded, InvalidParameterValue;
// v2 AlreadyExistsException, NotFoundException, BadRequestException, LimitExceededException).
#pragma once

#include "base/clock.hpp"
#include "domain/template_store.hpp"
#include "sending/sender.hpp"
#include "services/operation_table.hpp"

namespace mailtally::services {

// Every argument must outlive the table. Call after register_ses_send. Handlers run on any HTTP
// worker thread.
void register_ses_templates(OperationTable& table, domain::TemplateStore& templates,
                            sending::Sender& sender, const base::Clock& clock);

namespace templates_detail {
void register_crud(OperationTable& table, domain::TemplateStore& templates,
                   const base::Clock& clock);
void register_sends(OperationTable& table, domain::TemplateStore& templates,
                    sending::Sender& sender);
}  // namespace templates_detail

}  // namespace mailtally::services
