#include "kernel/driver/scheduler_driver.hpp"

#include "common/http/client.hpp"
#include "common/http/recordio.hpp"
#include "common/log.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("driver"); }

class HttpDriver final : public SchedulerDriver {
 public:
  HttpDriver(const std::string& master, Json info, Scheduler& scheduler)
      : url_((master.rfind("http", 0) == 0 ? master : "http://" + master) + "/api/v1/scheduler"),
        info_(std::move(info)), scheduler_(scheduler) {
    std::string id = info_.contains("id") && info_["id"].is_object() ? info_["id"].value("value", "") : "";
    frameworkId_ = id;
  }
  ~HttpDriver() override { stop(); }

  void start() override {
    if (thread_.joinable()) return;
    stopping_ = false;
    cancel_ = std::make_shared<http::CancelToken>();
    thread_ = std::thread([this] { run(); });
  }

  void stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    if (cancel_) cancel_->cancel();
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  Result<void> send(Json call) override {
    std::string streamId, fid;
    {
      std::lock_guard lock(mu_);
      streamId = streamId_;
      fid = frameworkId_;
    }
    if (streamId.empty()) return Error(ErrorCode::kUnavailable, "not subscribed");
    call["framework_id"] = {{"value", fid}};
    http::ClientRequest req;
    req.method = "POST";
    req.url = url_;
    req.headers["Content-Type"] = "application/json";
    req.headers["Mesos-Stream-Id"] = streamId;
    req.body = call.dump();
    req.timeout = std::chrono::seconds(30);
    auto res = http::fetch(req);
    if (!res) return res.error();
    if (res->status == 202 || res->status == 200) return success();
    auto body = parseJson(res->body);
    std::string message = body && body->is_object() ? body->value("message", res->body) : res->body;
    Error e(res->status == 403 ? ErrorCode::kForbidden : ErrorCode::kInvalidArgument, message);
    if (body && body->is_object() && body->contains("details")) {
      for (const auto& d : (*body)["details"]) {
        ErrorDetail detail{d.value("path", ""), {}};
        for (const auto& m : d.value("errors", Json::array())) detail.errors.push_back(m.get<std::string>());
        e.details.push_back(detail);
      }
    }
    return e;
  }

  std::string frameworkId() const override {
    std::lock_guard lock(mu_);
    return frameworkId_;
  }

 private:
  void run() {
    std::mt19937 rng{std::random_device{}()};
    auto backoff = std::chrono::milliseconds(100);
    while (!isStopping()) {
      Json call = {{"type", "SUBSCRIBE"}};
      Json info = info_;
      std::string fid = frameworkId();
      if (!fid.empty()) {
        info["id"] = {{"value", fid}};
        call["framework_id"] = {{"value", fid}};
      }
      call["subscribe"] = {{"framework_info", info}};
      http::ClientRequest req;
      req.method = "POST";
      req.url = url_;
      req.headers["Content-Type"] = "application/json";
      req.headers["Accept"] = "application/json";
      req.body = call.dump();
      req.timeout = std::chrono::seconds(10);
      req.cancel = cancel_;
      http::RecordIoDecoder decoder;
      bool subscribed = false;
      std::string error;
      auto res = http::fetchStream(
          req,
          [&](std::string_view piece) {
            auto records = decoder.feed(piece);
            if (!records) {
              error = records.error().message;
              return false;
            }
            for (auto& r : *records) {
              auto event = parseJson(r);
              if (!event) continue;
              if ((*event).value("type", "") == "SUBSCRIBED") {
                std::lock_guard lock(mu_);
                frameworkId_ = (*event)["subscribed"]["framework_id"].value("value", "");
                subscribed = true;
              }
              scheduler_.received(*event);
            }
            return !isStopping();
          },
          // Heartbeats arrive every 15 s; a silent minute means the master is gone.
          std::chrono::seconds(60),
          [&](const http::ClientResponse& head) {
            std::lock_guard lock(mu_);
            if (head.status == 200) streamId_ = head.headers.count("Mesos-Stream-Id") ? head.headers.at("Mesos-Stream-Id") : "";
          });
      {
        std::lock_guard lock(mu_);
        streamId_.clear();
      }
      if (isStopping()) break;
      std::string why = !res ? res.error().message
                        : res->status != 200 ? "subscription refused with status " + std::to_string(res->status)
                        : !error.empty() ? error : "the master closed the event stream";
      logger().info("framework '{}' disconnected: {}", frameworkId(), why);
      scheduler_.disconnected(why);
      if (subscribed) backoff = std::chrono::milliseconds(100);
      auto wait = backoff + std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 100)(rng));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, wait, [&] { return stopping_; });
    }
  }

  bool isStopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  std::string url_;
  Json info_;
  Scheduler& scheduler_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string frameworkId_;
  std::string streamId_;
  std::shared_ptr<http::CancelToken> cancel_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<SchedulerDriver> makeHttpDriver(const std::string& master, Json frameworkInfo, Scheduler& scheduler) {
  return std::make_unique<HttpDriver>(master, std::move(frameworkInfo), scheduler);
}

}  // namespace dcos::kernel
