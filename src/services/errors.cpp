#include "services/errors.hpp"

namespace mailtally::services {
namespace {

using domain::ErrorKind;
using domain::Subject;

void add_names(wire::ApiError& a, const domain::Error& e, bool destination) {
  if (!e.configuration_set.empty()) a.fields["ConfigurationSetName"] = e.configuration_set;
  if (destination && !e.event_destination.empty()) {
    a.fields["EventDestinationName"] = e.event_destination;
  }
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

wire::ApiError ses_v1_error(const domain::Error& e) {
  const wire::Service& m = wire::ses_v1_model();
  wire::ApiError a;
  switch (e.kind) {
    case ErrorKind::NotFound:
      if (e.subject == Subject::ConfigurationSet) {
        a = wire::model_error(m, "ConfigurationSetDoesNotExistException", e.message);
        add_names(a, e, false);
      } else if (e.subject == Subject::EventDestination) {
        a = wire::model_error(m, "EventDestinationDoesNotExistException", e.message);
        add_names(a, e, true);
      } else if (e.subject == Subject::TrackingOptions) {
        a = wire::model_error(m, "TrackingOptionsDoesNotExistException", e.message);
        add_names(a, e, false);
      } else {
        a = wire::generic_error(400, "InvalidParameterValue", e.message);
      }
      return a;
    case ErrorKind::AlreadyExists:
      if (e.subject == Subject::ConfigurationSet) {
        a = wire::model_error(m, "ConfigurationSetAlreadyExistsException", e.message);
        add_names(a, e, false);
      } else if (e.subject == Subject::EventDestination) {
        a = wire::model_error(m, "EventDestinationAlreadyExistsException", e.message);
        add_names(a, e, true);
      } else if (e.subject == Subject::TrackingOptions) {
        a = wire::model_error(m, "TrackingOptionsAlreadyExistsException", e.message);
        add_names(a, e, false);
      } else {
        a = wire::model_error(m, "AlreadyExistsException", e.message);
      }
      return a;
    case ErrorKind::LimitExceeded:
      return wire::model_error(m, "LimitExceededException", e.message);
    case ErrorKind::InvalidParameter:
      switch (e.subject) {
        case Subject::ConfigurationSet:
          return wire::model_error(m, "InvalidConfigurationSetException", e.message);
        case Subject::TrackingOptions:
          return wire::model_error(m, "InvalidTrackingOptionsException", e.message);
        case Subject::CloudWatchDestination:
          a = wire::model_error(m, "InvalidCloudWatchDestinationException", e.message);
          add_names(a, e, true);
          return a;
        case Subject::SnsDestination:
          a = wire::model_error(m, "InvalidSNSDestinationException", e.message);
          add_names(a, e, true);
          return a;
        case Subject::FirehoseDestination:
          a = wire::model_error(m, "InvalidFirehoseDestinationException", e.message);
          add_names(a, e, true);
          return a;
        default:
          return wire::generic_error(400, "InvalidParameterValue", e.message);
      }
  }
  return wire::generic_error(500, "InternalFailure", e.message, false);
}

wire::ApiError ses_v2_error(const domain::Error& e) {
  const wire::Service& m = wire::ses_v2_model();
  switch (e.kind) {
    case ErrorKind::NotFound:
      return wire::model_error(m, "NotFoundException", e.message);
    case ErrorKind::AlreadyExists:
      return wire::model_error(m, "AlreadyExistsException", e.message);
    case ErrorKind::LimitExceeded:
      return wire::model_error(m, "LimitExceededException", e.message);
    case ErrorKind::InvalidParameter:
      return wire::model_error(m, "BadRequestException", e.message);
  }
  return wire::generic_error(500, "InternalFailure", e.message, false);
}

wire::ApiError ses_v1_validation(const wire::Operation& op, const wire::DecodeError& e) {
  const wire::Service& m = wire::ses_v1_model();
  // Destination definitions that break the model are that destination type's error, as the
  // operations that take destinations declare.
  if (op.name == "CreateConfigurationSetEventDestination" ||
      op.name == "UpdateConfigurationSetEventDestination") {
    if (starts_with(e.path, "EventDestination.CloudWatchDestination")) {
      return wire::model_error(m, "InvalidCloudWatchDestinationException", e.message);
    }
    if (starts_with(e.path, "EventDestination.SNSDestination")) {
      return wire::model_error(m, "InvalidSNSDestinationException", e.message);
    }
    if (starts_with(e.path, "EventDestination.KinesisFirehoseDestination")) {
      return wire::model_error(m, "InvalidFirehoseDestinationException", e.message);
    }
  }
  if (e.kind == wire::DecodeError::Kind::Missing) {
    return wire::generic_error(400, "MissingParameter", e.message);
  }
  return wire::generic_error(400, "InvalidParameterValue", e.message);
}

wire::ApiError ses_v2_validation(const wire::Operation&, const wire::DecodeError& e) {
  return wire::model_error(wire::ses_v2_model(), "BadRequestException", e.message);
}

wire::ApiError cloudwatch_validation(const wire::Operation&, const wire::DecodeError& e) {
  const wire::Service& m = wire::cloudwatch_model();
  if (e.kind == wire::DecodeError::Kind::Missing) {
    return wire::model_error(m, "MissingRequiredParameterException", e.message);
  }
  return wire::model_error(m, "InvalidParameterValueException", e.message);
}

}  // namespace mailtally::services
