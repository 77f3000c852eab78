#include "destinations/external_dispatcher.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "base/crypto.hpp"
#include "base/thread_name.hpp"
#include "destinations/event_messages.hpp"
#include "destinations/http_client.hpp"
#include "destinations/sns_signer.hpp"
#include "domain/rules.hpp"

namespace mailtally::destinations {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool is_external(const domain::EventDestination& d) { return d.sns || d.firehose || d.eventbridge; }

bool matches(const domain::EventDestination& d, std::string_view event_type) {
  if (!d.enabled) return false;
  return std::any_of(d.matching_event_types.begin(), d.matching_event_types.end(),
                     [&](domain::EventType t) { return domain::event_type_name(t) == event_type; });
}

// One subscriber of an SNS topic as the dispatcher posts to it.
struct Subscriber {
  std::string url;
  std::string subscription_arn;
};

// An append-only file opened once per worker.
class AppendFile {
 public:
  ~AppendFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool append(const std::string& path, std::string_view data, std::string& error) {
    if (fd_ < 0 || path != path_) {
      if (fd_ >= 0) ::close(fd_);
      // The folder is created on first use, private like the rest of the data dir.
      std::string dir = std::filesystem::path(path).parent_path().string();
      if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        error = "cannot create " + dir + ": " + std::strerror(errno);
        return false;
      }
      fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      path_ = path;
      if (fd_ < 0) {
        error = "cannot open " + path + ": " + std::strerror(errno);
        return false;
      }
    }
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error = "cannot write " + path + ": " + std::strerror(errno);
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    dirty_ = true;
    return true;
  }
  bool sync(std::string& error) {
    if (!dirty_ || fd_ < 0) return true;
    if (::fdatasync(fd_) != 0) {
      error = "cannot sync " + path_ + ": " + std::strerror(errno);
      return false;
    }
    dirty_ = false;
    return true;
  }

 private:
  int fd_ = -1;
  std::string path_;
  bool dirty_ = false;
};

}  // namespace

struct ExternalDispatcher::Worker {
  std::string set;
  std::string name;
  std::mutex mu;
  domain::EventDestination destination;  // guarded by mu; refreshed by the manager
  std::atomic<bool> removed{false};
  std::thread thread;

  domain::EventDestination snapshot() {
    std::lock_guard lock(mu);
    return destination;
  }
};

ExternalDispatcher::ExternalDispatcher(domain::SendingStore& events, domain::ConfigStore& config,
                                       domain::SnsStore& sns, const SnsSigner& signer,
                                       ExternalTargets targets, ExternalOptions options)
    : events_(events),
      config_(config),
      sns_(sns),
      signer_(signer),
      targets_(std::move(targets)),
      options_(options) {}

ExternalDispatcher::~ExternalDispatcher() { stop(); }

void ExternalDispatcher::start() {
  if (manager_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  signal_.restart();
  manager_ = std::thread([this] { manage(); });
  confirmer_ = std::thread([this] { run_confirmations(); });
}

void ExternalDispatcher::notify() { signal_.notify(); }

void ExternalDispatcher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !manager_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  signal_.stop();
  if (manager_.joinable()) manager_.join();
  if (confirmer_.joinable()) confirmer_.join();
}

void ExternalDispatcher::confirm_subscription(const domain::SnsSubscription& subscription) {
  {
    std::lock_guard lock(mu_);
    confirmations_.push_back(subscription);
  }
  cv_.notify_all();
}

bool ExternalDispatcher::wait(std::uint64_t& seen, std::chrono::milliseconds d) {
  bool running = signal_.wait_for(seen, d);
  seen = signal_.generation();
  return running;
}

bool ExternalDispatcher::sleep(std::chrono::milliseconds d, const std::atomic<bool>* removed) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return stopping_ || (removed && *removed); });
}

void ExternalDispatcher::manage() {
  base::name_this_thread("external");
  // On a timer only: notify() comes with every send and must not cost a configuration scan.
  do {
    try {
      refresh();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mailtally: external destinations: %s\n", e.what());
    }
  } while (sleep(options_.poll));
  for (auto& [key, w] : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  workers_.clear();
}

std::int64_t ExternalDispatcher::start_position(const domain::ConfigurationSetRecord& set) {
  const double from = std::max(
      set.set.created_at, now_seconds() - static_cast<double>(options_.discovery_grace.count()));
  domain::EventFilter f;
  f.configuration_set = set.set.name;
  f.limit = 1000;
  f.read_own_writes = false;
  std::int64_t position = 0;
  for (;;) {
    f.after = position;
    auto batch = events_.events(f);
    for (const auto& e : batch) {
      if (e.created_at >= from) return position;
      position = e.seq;
    }
    if (batch.size() < f.limit) return position;
  }
}

void ExternalDispatcher::refresh() {
  std::set<std::string> seen;
  std::string after;
  for (;;) {
    auto names = config_.list_configuration_sets(after, 1000);
    for (const auto& name : names) {
      auto record = config_.get_configuration_set(name);
      if (!record) continue;
      for (const auto& d : record->destinations) {
        if (!is_external(d)) continue;
        std::string key = name + '\n' + d.name;
        seen.insert(key);
        auto it = workers_.find(key);
        if (it != workers_.end()) {
          std::lock_guard lock(it->second->mu);
          it->second->destination = d;
          continue;
        }
        if (!events_.cursor(name, d.name)) {
          events_.advance_cursor(name, d.name, start_position(*record));
        }
        auto w = std::make_unique<Worker>();
        w->set = name;
        w->name = d.name;
        w->destination = d;
        Worker* raw = w.get();
        w->thread = std::thread([this, raw] { run_worker(*raw); });
        workers_.emplace(std::move(key), std::move(w));
      }
    }
    if (names.size() < 1000) break;
    after = names.back();
  }
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    it->second->removed = true;  // the destination (or its set) was deleted
    cv_.notify_all();
    if (it->second->thread.joinable()) it->second->thread.join();
    it = workers_.erase(it);
  }
}

void ExternalDispatcher::run_worker(Worker& w) {
  base::name_this_thread("external dest");
  HttpClient http(options_.http_timeout);
  AppendFile file;
  std::uint64_t seen = 0;
  std::int64_t cursor = events_.cursor(w.set, w.name).value_or(0);
  std::int64_t partial_seq = 0;        // the event some subscribers already took
  std::set<std::string> partial_done;  // ... and those subscribers
  std::chrono::milliseconds retry = options_.first_retry;
  bool warned_no_target = false;
  const std::string seed_prefix = w.set + "/" + w.name + "/";

  // Delivers one event; false (with `why`) when it must be retried.
  auto deliver = [&](const domain::EventDestination& d, const domain::LoggedEvent& e,
                     std::string& why) -> bool {
    const std::string id = stable_uuid(seed_prefix + std::to_string(e.seq));
    if (d.firehose) {
      auto stream = firehose_stream_name(d.firehose->delivery_stream_arn);
      if (!stream || targets_.firehose_dir.empty()) return true;  // validated ARNs have one
      std::string line = e.record;
      line += '\n';
      return file.append(
          (std::filesystem::path(targets_.firehose_dir) / (*stream + ".jsonl")).string(), line,
          why);
    }
    if (d.eventbridge) {
      auto target = targets_.eventbridge_targets.find(d.eventbridge->event_bus_arn);
      if (target == targets_.eventbridge_targets.end()) {
        if (!warned_no_target) {
          std::fprintf(stderr,
                       "mailtally: no EventBridge target URL for %s (destination %s of %s); "
                       "its events are dropped\n",
                       d.eventbridge->event_bus_arn.c_str(), w.name.c_str(), w.set.c_str());
          warned_no_target = true;
        }
        return true;
      }
      auto body = eventbridge_event_json(e.record, e.event_type, d.eventbridge->event_bus_arn, id,
                                         e.created_at);
      if (!body) {  // not a JSON record of a known type: nothing EventBridge could carry
        std::fprintf(stderr, "mailtally: event %lld (%s) has no EventBridge form; skipped\n",
                     static_cast<long long>(e.seq), e.event_type.c_str());
        return true;
      }
      auto r = http.post(target->second, {{"Content-Type", "application/json"}}, *body);
      if (!r.ok()) why = target->second + ": " + r.describe();
      return r.ok();
    }
    // SNS
    const std::string& topic = d.sns->topic_arn;
    std::vector<Subscriber> subscribers;
    for (const auto& s : sns_.subscriptions(topic)) {
      if (s.confirmed) subscribers.push_back({s.endpoint, s.arn});
    }
    if (auto it = targets_.sns_subscribers.find(topic); it != targets_.sns_subscribers.end()) {
      for (const auto& url : it->second) {
        subscribers.push_back({url, topic + ":static-" + stable_uuid(url)});
      }
    }
    if (partial_seq != e.seq) {
      partial_seq = e.seq;
      partial_done.clear();
    }
    SnsEnvelope env;
    env.type = "Notification";
    env.message_id = id;
    env.topic_arn = topic;
    env.message = e.record;
    env.timestamp = e.created_at;
    env.signing_cert_url = targets_.base_url + "/_mailtally/sns/signing-cert.pem";
    bool all = true;
    for (const auto& s : subscribers) {
      if (partial_done.count(s.subscription_arn)) continue;
      env.unsubscribe_url = targets_.base_url + domain::sns_unsubscribe_path(s.subscription_arn);
      std::string body = sns_envelope_json(env, "1", signer_.sign(sns_string_to_sign(env)));
      auto r = http.post(s.url,
                         {{"Content-Type", "text/plain; charset=UTF-8"},
                          {"User-Agent", "Amazon Simple Notification Service Agent"},
                          {"x-amz-sns-message-type", "Notification"},
                          {"x-amz-sns-message-id", id},
                          {"x-amz-sns-topic-arn", topic},
                          {"x-amz-sns-subscription-arn", s.subscription_arn}},
                         body);
      if (r.ok()) {
        partial_done.insert(s.subscription_arn);
      } else {
        if (!why.empty()) why += "; ";
        why += s.url + ": " + r.describe();
        all = false;
      }
    }
    return all;
  };

  const std::string lease = "dispatch:" + w.set + "/" + w.name;
  bool held = options_.leases == nullptr;
  auto hold_lease = [&] {  // false while another node serves this destination
    if (!options_.leases) return true;
    double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    bool was_held = held;
    try {
      held = options_.leases->try_acquire(lease, options_.node_id, now, options_.lease_seconds);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "mailtally: lease %s: %s\n", lease.c_str(), ex.what());
      held = false;
    }
    if (held && !was_held) cursor = events_.cursor(w.set, w.name).value_or(cursor);
    return held;
  };
  struct Release {
    const ExternalOptions& o;
    const std::string& lease;
    ~Release() {
      try {
        if (o.leases) o.leases->release(lease, o.node_id);
      } catch (...) {
      }
    }
  } release_on_exit{options_, lease};

  while (!w.removed) {
    if (!hold_lease()) {
      if (!wait(seen, options_.poll)) return;
      continue;
    }
    domain::EventDestination d = w.snapshot();
    std::vector<domain::LoggedEvent> batch;
    try {
      domain::EventFilter f;
      f.configuration_set = w.set;
      f.after = cursor;
      f.limit = options_.batch;
      f.read_own_writes = false;  // notified as events become readable
      batch = events_.events(f);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "mailtally: destination %s of %s: %s\n", w.name.c_str(), w.set.c_str(),
                   ex.what());
    }
    if (batch.empty()) {
      if (!wait(seen, options_.poll)) return;
      continue;
    }
    std::int64_t done = cursor;
    std::string why;
    bool failed = false;
    auto renewed = std::chrono::steady_clock::now();
    const auto renew_every =
        std::chrono::duration<double>(options_.lease_seconds / 3);  // well before it ends
    for (const auto& e : batch) {
      if (w.removed) break;
      // A batch of slow endpoints may outlast the lease: renew it as we go, and stop (keeping
      // what was delivered) once another node has it, so two nodes never post the same events.
      if (options_.leases && std::chrono::steady_clock::now() - renewed > renew_every) {
        if (!hold_lease()) break;
        renewed = std::chrono::steady_clock::now();
      }
      if (matches(d, e.event_type) && !deliver(d, e, why)) {
        failed = true;
        break;
      }
      done = e.seq;
    }
    if (!file.sync(why)) {  // a Firehose line counts only once it is on disk
      failed = true;
      done = cursor;
    }
    if (done > cursor) {
      try {
        events_.advance_cursor(w.set, w.name, done);
        cursor = done;
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "mailtally: destination %s of %s: %s\n", w.name.c_str(), w.set.c_str(),
                     ex.what());
        failed = true;
      }
    }
    if (failed) {
      std::fprintf(
          stderr, "mailtally: destination %s of %s: delivery failed (%s); retrying in %lld ms\n",
          w.name.c_str(), w.set.c_str(), why.c_str(), static_cast<long long>(retry.count()));
      if (!sleep(retry, &w.removed)) return;
      retry = std::min(retry * 2, options_.max_retry);
    } else {
      retry = options_.first_retry;
    }
  }
}

void ExternalDispatcher::run_confirmations() {
  base::name_this_thread("sns confirm");
  HttpClient http(options_.http_timeout);
  for (;;) {
    std::optional<domain::SnsSubscription> next;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !confirmations_.empty(); });
      if (confirmations_.empty()) return;  // stopping
      next = std::move(confirmations_.front());
      confirmations_.pop_front();
    }
    SnsEnvelope env;
    env.type = "SubscriptionConfirmation";
    env.message_id = stable_uuid("confirm/" + next->arn);
    env.topic_arn = next->topic_arn;
    env.token = next->token;
    env.timestamp = now_seconds();
    env.subscribe_url = targets_.base_url + domain::sns_confirm_path(next->topic_arn, next->token);
    env.message = "You have chosen to subscribe to the topic " + next->topic_arn +
                  ".\nTo confirm the subscription, visit the SubscribeURL included in this "
                  "message.";
    env.signing_cert_url = targets_.base_url + "/_mailtally/sns/signing-cert.pem";
    std::string body = sns_envelope_json(env, "1", signer_.sign(sns_string_to_sign(env)));
    std::chrono::milliseconds delay = options_.first_retry;
    for (int attempt = 0; attempt < 4; ++attempt) {
      auto r = http.post(next->endpoint,
                         {{"Content-Type", "text/plain; charset=UTF-8"},
                          {"User-Agent", "Amazon Simple Notification Service Agent"},
                          {"x-amz-sns-message-type", "SubscriptionConfirmation"},
                          {"x-amz-sns-message-id", env.message_id},
                          {"x-amz-sns-topic-arn", next->topic_arn}},
                         body);
      if (r.ok()) break;
      std::fprintf(stderr, "mailtally: SubscriptionConfirmation to %s failed (%s)\n",
                   next->endpoint.c_str(), r.describe().c_str());
      if (!sleep(delay)) return;
      delay *= 2;
    }
  }
}

}  // namespace mailtally::destinations
