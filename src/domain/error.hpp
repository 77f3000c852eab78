// The protocol-independent error of the domain. services/ maps it, in one place per API, to
// the AWS error code of the API version that was called.
#pragma once

#include <string>

#include "base/expected.hpp"

namespace mailtally::domain {

enum class ErrorKind {
  InvalidParameter,  // a value breaks a rule (characters, lengths, combinations)
  NotFound,
  AlreadyExists,
  LimitExceeded,
};

// What the error is about; selects e.g. v1's InvalidCloudWatchDestination.
enum class Subject {
  ConfigurationSet,
  EventDestination,
  CloudWatchDestination,
  SnsDestination,
  FirehoseDestination,
  EventBridgeDestination,
  PinpointDestination,
  Identity,
  TrackingOptions,
  Other,
};

struct Error {
  ErrorKind kind;
  Subject subject;
  std::string message;  // names the offending field and value
  std::string configuration_set;
  std::string event_destination;
};

template <class T>
using Result = base::Expected<T, Error>;
using Status = base::Status<Error>;

inline base::Unexpected<Error> fail(ErrorKind kind, Subject subject, std::string message,
                                    std::string set = {}, std::string destination = {}) {
  return base::unexpected(
      Error{kind, subject, std::move(message), std::move(set), std::move(destination)});
}

}  // namespace mailtally::domain
