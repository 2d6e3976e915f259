// Marathon's event bus over a real HTTP server: GET /v2/events as Server-Sent Events.
#include "marathon_like/events.hpp"

#include "common/http/client.hpp"
#include "tests/support/local_server.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

using namespace dcos;
using namespace dcos::marathon;
using namespace std::chrono_literals;

namespace {

struct SseEvent {
  std::string name;
  Json data;
};

// A subscriber on its own thread: reads the stream into a buffer until disconnect().
class SseClient {
 public:
  explicit SseClient(std::string url, std::string accept = "text/event-stream") {
    http::ClientRequest req;
    req.url = std::move(url);
    if (!accept.empty()) req.headers["Accept"] = accept;
    req.cancel = cancel_;
    thread_ = std::thread([this, req] {
      auto r = http::fetchStream(
          req,
          [this](std::string_view piece) {
            std::lock_guard lock(mu_);
            body_ += piece;
            return true;
          },
          Duration::zero(),
          [this](const http::ClientResponse& head) {
            std::lock_guard lock(mu_);
            status_ = head.status;
            headers_ = head.headers;
          });
      finished_ = true;
    });
  }
  ~SseClient() { disconnect(); }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  void disconnect() {
    cancel_->cancel();
    if (thread_.joinable()) thread_.join();
  }
  bool finished() const { return finished_; }
  std::string body() const {
    std::lock_guard lock(mu_);
    return body_;
  }
  int status() const {
    std::lock_guard lock(mu_);
    return status_;
  }
  std::string header(const std::string& name) const {
    std::lock_guard lock(mu_);
    auto it = headers_.find(name);
    return it == headers_.end() ? "" : it->second;
  }
  // The complete events received so far; comments (heartbeats) are skipped.
  std::vector<SseEvent> events() const {
    std::vector<SseEvent> out;
    std::string b = body();
    size_t start = 0;
    for (size_t end; (end = b.find("\n\n", start)) != std::string::npos; start = end + 2) {
      std::string block = b.substr(start, end - start);
      if (block.rfind(':', 0) == 0) continue;
      SseEvent e;
      size_t nl = block.find('\n');
      REQUIRE(block.rfind("event: ", 0) == 0);
      REQUIRE(nl != std::string::npos);
      e.name = block.substr(7, nl - 7);
      REQUIRE(block.compare(nl + 1, 6, "data: ") == 0);
      auto data = parseJson(block.substr(nl + 7));
      REQUIRE(data.ok());
      e.data = *data;
      out.push_back(std::move(e));
    }
    return out;
  }
  bool waitForEvents(size_t n) const {
    return test::waitFor([&] { return events().size() >= n; }, 5000ms);
  }

 private:
  std::shared_ptr<http::CancelToken> cancel_ = std::make_shared<http::CancelToken>();
  mutable std::mutex mu_;
  std::string body_;
  int status_ = 0;
  http::Headers headers_;
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

// A bus on a live server. The server stops before the bus goes, so the bus dies on a stopped loop.
struct Fixture {
  FakeClock clock;
  test::LocalServer srv;
  std::unique_ptr<EventBus> bus;

  explicit Fixture(Duration heartbeat = 15s) {
    bus = std::make_unique<EventBus>(srv.loop, clock, heartbeat);
    bus->registerRoutes(srv.router, {"", "/marathon"});
    srv.start();
  }
  ~Fixture() { srv.stop(); }

  void publish(std::string type, Json payload) {
    srv.loop.post([this, type = std::move(type), payload = std::move(payload)] { bus->publish(type, payload); });
  }
  bool waitForSubscribers(size_t n) {
    return test::waitFor([&] { return bus->subscriberCount() == n; }, 5000ms);
  }
  std::string url(const std::string& query = "") const { return srv.url("/v2/events" + query); }
};

std::vector<std::string> names(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.name);
  return out;
}

}  // namespace

TEST_CASE("isoTimestamp prints UTC with milliseconds, and lightEvent drops the plan's groups") {
  CHECK(isoTimestamp(TimePoint(1'700'000'000'123ms)) == "2023-11-14T22:13:20.123Z");
  Json heavy = {{"eventType", "deployment_info"},
                {"plan", {{"id", "d1"}, {"original", {{"id", "/"}}}, {"target", {{"id", "/"}}}, {"steps", Json::array()}}}};
  CHECK(lightEvent(heavy) == Json{{"eventType", "deployment_info"}, {"plan", {{"id", "d1"}, {"steps", Json::array()}}}});
  Json plain = {{"eventType", "status_update_event"}, {"appId", "/web"}};
  CHECK(lightEvent(plain) == plain);
}

TEST_CASE("in-process listeners get every published event with eventType and timestamp until removed") {
  EventLoop loop;
  FakeClock clock;
  EventBus bus(loop, clock);
  std::vector<Json> seen;
  uint64_t id = bus.addListener([&](const Json& e) { seen.push_back(e); });
  uint64_t once = 0;
  int onceCalls = 0;
  once = bus.addListener([&](const Json&) {
    ++onceCalls;
    bus.removeListener(once);
  });
  bus.publish("status_update_event", {{"appId", "/web"}, {"taskStatus", "TASK_RUNNING"}});
  clock.advance(1500ms);
  bus.publish("deployment_success", {{"id", "d1"}});
  bus.removeListener(id);
  bus.publish("deployment_success", {{"id", "d2"}});
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == Json{{"appId", "/web"},
                        {"taskStatus", "TASK_RUNNING"},
                        {"eventType", "status_update_event"},
                        {"timestamp", "2023-11-14T22:13:20.000Z"}});
  CHECK(seen[1]["timestamp"] == "2023-11-14T22:13:21.500Z");
  CHECK(onceCalls == 1);
  CHECK(bus.subscriberCount() == 0);
}

TEST_CASE("a subscriber gets event_stream_attached, then published events in order as SSE") {
  Fixture f;
  SseClient c(f.url());
  REQUIRE(c.waitForEvents(1));
  CHECK(c.status() == 200);
  CHECK(c.header("Content-Type") == "text/event-stream");
  CHECK(c.header("Cache-Control").find("no-cache") != std::string::npos);
  CHECK(f.bus->subscriberCount() == 1);

  f.publish("status_update_event", {{"appId", "/web"}, {"taskId", "web.1"}, {"taskStatus", "TASK_RUNNING"}});
  f.publish("deployment_success", {{"id", "d1"}});
  f.publish("group_change_success", {{"groupId", "/"}, {"version", "2023-11-14T22:13:20.000Z"}});
  REQUIRE(c.waitForEvents(4));
  auto events = c.events();
  CHECK(names(events) == std::vector<std::string>{"event_stream_attached", "status_update_event",
                                                  "deployment_success", "group_change_success"});
  CHECK(events[0].data == Json{{"remoteAddress", "127.0.0.1"},
                               {"eventType", "event_stream_attached"},
                               {"timestamp", "2023-11-14T22:13:20.000Z"}});
  CHECK(events[1].data["taskStatus"] == "TASK_RUNNING");
  CHECK(events[1].data["eventType"] == "status_update_event");
  CHECK(events[2].data == Json{{"id", "d1"}, {"eventType", "deployment_success"}, {"timestamp", "2023-11-14T22:13:20.000Z"}});
  std::string body = c.body();
  CHECK(body.rfind("event: event_stream_attached\ndata: {", 0) == 0);
  CHECK(body.find("\n\nevent: deployment_success\ndata: {") != std::string::npos);
  CHECK(body.substr(body.size() - 2) == "\n\n");
}

TEST_CASE("replay=N starts the stream with the last N events published before, filters applied") {
  Fixture f;
  for (int i = 0; i < 5; ++i) f.publish("status_update_event", {{"taskId", "t" + std::to_string(i)}});
  f.publish("deployment_success", {{"id", "d1"}});
  SseClient c(f.url("?replay=3&event_type=status_update_event"));
  REQUIRE(c.waitForEvents(2));
  auto events = c.events();
  CHECK(names(events) == std::vector<std::string>{"status_update_event", "status_update_event"});
  CHECK(events[0].data["taskId"] == "t3");
  CHECK(events[1].data["taskId"] == "t4");
  f.publish("status_update_event", {{"taskId", "live"}});
  REQUIRE(c.waitForEvents(3));
  CHECK(c.events()[2].data["taskId"] == "live");
  // Without replay, as Marathon: only what is published from now on.
  SseClient plain(f.url());
  REQUIRE(plain.waitForEvents(1));
  CHECK(names(plain.events()) == std::vector<std::string>{"event_stream_attached"});
}

TEST_CASE("event_type limits a subscriber to the types it names") {
  Fixture f;
  SseClient c(f.url("?event_type=status_update_event&event_type=deployment_success"));
  REQUIRE(f.waitForSubscribers(1));
  f.publish("status_update_event", {{"taskId", "a"}});
  f.publish("deployment_info", {{"plan", {{"id", "d1"}}}});
  f.publish("deployment_success", {{"id", "d1"}});
  REQUIRE(c.waitForEvents(2));
  // Events travel in order on one stream: had deployment_info been sent, it would be second.
  CHECK(names(c.events()) == std::vector<std::string>{"status_update_event", "deployment_success"});
}

TEST_CASE("a new event stream subscriber is announced to those already attached, under every prefix") {
  Fixture f;
  SseClient a(f.url());
  REQUIRE(a.waitForEvents(1));
  SseClient b(f.srv.url("/marathon/v2/events"), "*/*");
  REQUIRE(b.waitForEvents(1));
  CHECK(b.status() == 200);
  REQUIRE(a.waitForEvents(2));
  CHECK(names(a.events()) == std::vector<std::string>{"event_stream_attached", "event_stream_attached"});
  CHECK(f.bus->subscriberCount() == 2);
}

TEST_CASE("an event stream client that goes away is detached, and the others hear of it") {
  Fixture f;
  SseClient stays(f.url("?event_type=event_stream_detached"));
  REQUIRE(f.waitForSubscribers(1));
  SseClient leaves(f.url());
  REQUIRE(leaves.waitForEvents(1));
  CHECK(f.bus->subscriberCount() == 2);
  leaves.disconnect();
  CHECK(f.waitForSubscribers(1));
  REQUIRE(stays.waitForEvents(1));
  auto events = stays.events();
  CHECK(events[0].name == "event_stream_detached");
  CHECK(events[0].data["remoteAddress"] == "127.0.0.1");
}

TEST_CASE("idle event streams get a heartbeat comment every interval") {
  Fixture f(50ms);
  SseClient c(f.url("?event_type=none_of_these"));
  REQUIRE(f.waitForSubscribers(1));
  CHECK(test::waitFor([&] { return c.body().find(": heartbeat\n\n") != std::string::npos; }, 5000ms));
  CHECK(test::waitFor([&] { return c.body().find(": heartbeat\n\n: heartbeat\n\n") != std::string::npos; }, 5000ms));
  CHECK(c.events().empty());
}

TEST_CASE("plan-format=light drops the plan's original and target groups from deployment events") {
  Fixture f;
  SseClient light(f.url("?plan-format=light&event_type=deployment_info"));
  SseClient full(f.url("?event_type=deployment_info"));
  REQUIRE(f.waitForSubscribers(2));
  Json plan = {{"id", "d1"}, {"original", {{"id", "/"}}}, {"target", {{"id", "/"}, {"apps", Json::array()}}},
               {"steps", Json::array()}, {"version", "2023-11-14T22:13:20.000Z"}};
  f.publish("deployment_info", {{"plan", plan}, {"currentStep", {{"actions", Json::array()}}}});
  REQUIRE(light.waitForEvents(1));
  REQUIRE(full.waitForEvents(1));
  Json lightPlan = light.events()[0].data["plan"];
  CHECK_FALSE(lightPlan.contains("original"));
  CHECK_FALSE(lightPlan.contains("target"));
  CHECK(lightPlan["id"] == "d1");
  CHECK(light.events()[0].data.contains("currentStep"));
  CHECK(full.events()[0].data["plan"] == plan);
}

TEST_CASE("an event stream request accepting only other types gets 406 and no subscription") {
  Fixture f;
  http::ClientRequest req;
  req.url = f.url();
  req.headers["Accept"] = "application/json";
  req.timeout = 5s;
  auto r = http::fetch(req);
  REQUIRE(r.ok());
  CHECK(r->status == 406);
  CHECK(r->body.find("text/event-stream") != std::string::npos);
  CHECK(f.bus->subscriberCount() == 0);
}

TEST_CASE("destroying the event bus ends every stream") {
  Fixture f;
  SseClient c(f.url());
  REQUIRE(c.waitForEvents(1));
  f.srv.loop.post([&] { f.bus.reset(); });
  CHECK(test::waitFor([&] { return c.finished(); }, 5000ms));
}
