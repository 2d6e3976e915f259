#include "marathon_like/events.hpp"

#include "common/http/http.hpp"
#include "common/log.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

// What would bound a slow reader's queue (not done here, ResponseStream is not ours): a
// `size_t queued() const` on http::ResponseStream (pieces written but not yet sent). publish()
// would then close a subscriber's stream once queued() passes a limit (Marathon's
// event_stream_max_outstanding_messages), which publishes event_stream_detached as usual.

namespace dcos::marathon {
namespace {

const log::Logger& logger() { return log::get("marathon"); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// True when an Accept header admits text/event-stream. An absent header admits anything.
// Media-type parameters (";q=0.5") are ignored: a client that names the type wants it.
bool acceptsEventStream(std::string_view accept) {
  if (trim(accept).empty()) return true;
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    range = trim(range.substr(0, range.find(';')));
    if (equalsIgnoreCase(range, "text/event-stream") || equalsIgnoreCase(range, "text/*") || range == "*/*") {
      return true;
    }
  }
  return false;
}

// "10.0.0.5:41234" -> "10.0.0.5", "::1:41234" -> "::1": Marathon reports the address only.
std::string hostOnly(const std::string& remote) {
  size_t colon = remote.rfind(':');
  if (colon == std::string::npos || colon + 1 == remote.size()) return remote;
  bool digits = std::all_of(remote.begin() + static_cast<std::ptrdiff_t>(colon) + 1, remote.end(),
                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  return digits ? remote.substr(0, colon) : remote;
}

// Payload strings come from users (app ids, labels, messages): invalid UTF-8 must not throw.
std::string serialize(const Json& event) { return event.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

std::string isoTimestamp(TimePoint t) { return toIso8601(t); }

Json lightEvent(const Json& event) {
  if (!event.is_object() || !event.contains("plan") || !event["plan"].is_object()) return event;
  Json light = event;
  light["plan"].erase("original");
  light["plan"].erase("target");
  return light;
}

EventBus::EventBus(EventLoop& loop, const Clock& clock, Duration heartbeatInterval)
    : loop_(loop), clock_(clock), heartbeatInterval_(heartbeatInterval) {}

EventBus::~EventBus() {
  if (heartbeatTimer_) loop_.cancel(*heartbeatTimer_);
  // The close handlers find alive_ expired and leave the (gone) bus alone.
  for (auto& [id, s] : subscribers_) s.stream->close();
  subscribers_.clear();
  subscriberCount_ = 0;
}

void EventBus::publish(const std::string& eventType, Json payload) {
  if (!payload.is_object()) payload = Json::object();
  payload["eventType"] = eventType;
  payload["timestamp"] = isoTimestamp(clock_.now());

  std::string full;
  std::string light;
  for (auto& [id, s] : subscribers_) {
    if (!s.types.empty() && !s.types.contains(eventType)) continue;
    std::string* data = &full;
    if (s.light && payload.contains("plan")) {
      if (light.empty()) light = serialize(lightEvent(payload));
      data = &light;
    } else if (full.empty()) {
      full = serialize(payload);
    }
    // A failed write means the stream has ended; its close handler (queued on the loop) removes
    // the subscriber and publishes event_stream_detached, so the order of events stays intact.
    s.stream->write(http::sseEvent(eventType, *data));
  }

  // Snapshot the ids: a listener may add or remove listeners while being called.
  std::vector<uint64_t> ids;
  ids.reserve(listeners_.size());
  for (const auto& [id, fn] : listeners_) ids.push_back(id);
  for (uint64_t id : ids) {
    auto it = listeners_.find(id);
    if (it == listeners_.end()) continue;
    auto fn = it->second;  // a copy: the listener may remove itself
    fn(payload);
  }

  // Kept for `replay` in the light form (without a plan's groups, so the history stays small),
  // serialized only when replayed: publishing costs no more when nobody listens.
  recent_.emplace_back(eventType, payload.contains("plan") ? lightEvent(payload) : std::move(payload));
  if (recent_.size() > kReplay) recent_.pop_front();
}

void EventBus::registerRoutes(http::Router& router, const std::vector<std::string>& prefixes) {
  for (const auto& prefix : prefixes) {
    router.routeAsync("GET", prefix + "/v2/events",
                      [this](http::Request& req, http::Responder responder) { subscribe(req, responder); });
  }
}

void EventBus::subscribe(const http::Request& req, const http::Responder& responder) {
  std::string accept = req.header("Accept");
  if (!acceptsEventStream(accept)) {
    logger().debug("event stream request from {} refused: Accept '{}' does not admit text/event-stream",
                   req.remoteAddress, accept);
    return responder.send(http::Response::error(
        406, "GET " + req.path + " answers only text/event-stream; send 'Accept: text/event-stream'"));
  }
  Subscriber s;
  for (auto& t : req.queryParams("event_type")) s.types.insert(std::move(t));
  s.light = req.queryParam("plan-format").value_or("") == "light";
  s.remoteAddress = hostOnly(req.remoteAddress);
  s.stream = responder.stream(200, {{"Content-Type", "text/event-stream"},
                                    {"Cache-Control", "no-cache, no-store, must-revalidate"}});
  if (auto replay = req.queryParam("replay")) {
    size_t n = std::min<size_t>(kReplay, static_cast<size_t>(std::max(0L, std::strtol(replay->c_str(), nullptr, 10))));
    for (size_t i = recent_.size() - std::min(n, recent_.size()); i < recent_.size(); ++i) {
      const auto& [type, data] = recent_[i];
      if (s.types.empty() || s.types.contains(type)) s.stream->write(http::sseEvent(type, serialize(data)));
    }
  }
  uint64_t id = nextSubscriber_++;
  auto stream = s.stream;
  std::string address = s.remoteAddress;
  subscribers_.emplace(id, std::move(s));
  ++subscriberCount_;
  logger().info("event stream subscriber {} from '{}' attached ({} subscribed)", id, address,
                subscribers_.size());
  std::weak_ptr<int> alive = alive_;
  stream->onClose([this, alive, id] {
    if (alive.lock()) unsubscribe(id);
  });
  armHeartbeat();
  publish("event_stream_attached", {{"remoteAddress", address}});
}

void EventBus::unsubscribe(uint64_t id) {
  auto it = subscribers_.find(id);
  if (it == subscribers_.end()) return;
  std::string address = it->second.remoteAddress;
  subscribers_.erase(it);
  --subscriberCount_;
  logger().info("event stream subscriber {} from '{}' detached ({} subscribed)", id, address, subscribers_.size());
  if (subscribers_.empty() && heartbeatTimer_) {
    loop_.cancel(*heartbeatTimer_);
    heartbeatTimer_.reset();
  }
  publish("event_stream_detached", {{"remoteAddress", address}});
}

void EventBus::armHeartbeat() {
  if (heartbeatTimer_ || subscribers_.empty() || heartbeatInterval_ <= Duration::zero()) return;
  std::weak_ptr<int> alive = alive_;
  heartbeatTimer_ = loop_.schedule(heartbeatInterval_, [this, alive] {
    if (!alive.lock()) return;
    heartbeatTimer_.reset();
    heartbeat();
  });
}

void EventBus::heartbeat() {
  std::string comment = http::sseComment("heartbeat");
  for (auto& [id, s] : subscribers_) s.stream->write(comment);
  armHeartbeat();
}

uint64_t EventBus::addListener(std::function<void(const Json& event)> fn) {
  uint64_t id = nextListener_++;
  listeners_.emplace(id, std::move(fn));
  return id;
}

void EventBus::removeListener(uint64_t id) { listeners_.erase(id); }

}  // namespace dcos::marathon
