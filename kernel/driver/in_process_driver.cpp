#include "kernel/driver/scheduler_driver.hpp"

#include "common/log.hpp"
#include "kernel/master/master.hpp"

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("driver"); }

// Events from the master reach the scheduler in a later turn of the loop, never from inside the
// master's own processing, so a scheduler may call back into the master from received().
class InProcessSink final : public EventSink {
 public:
  struct Shared {
    Scheduler* scheduler;
    bool alive = true;
    std::function<void(const std::string&)> onClosed;
  };
  InProcessSink(EventLoop& loop, std::shared_ptr<Shared> shared) : loop_(loop), shared_(std::move(shared)) {}

  bool send(const Json& event) override {
    if (!shared_->alive) return false;
    loop_.post([s = shared_, event] {
      if (s->alive) s->scheduler->received(event);
    });
    return true;
  }

  void close() override {
    if (!shared_->alive) return;
    shared_->alive = false;
    loop_.post([s = shared_] {
      if (s->onClosed) s->onClosed("the master closed the subscription");
    });
  }

 private:
  EventLoop& loop_;
  std::shared_ptr<Shared> shared_;
};

class InProcessDriver final : public SchedulerDriver {
 public:
  InProcessDriver(EventLoop& loop, Master& master, Json info, Scheduler& scheduler)
      : loop_(loop), master_(master), info_(std::move(info)), scheduler_(scheduler) {
    if (info_.contains("id") && info_["id"].is_object()) frameworkId_ = info_["id"].value("value", "");
  }
  ~InProcessDriver() override { stop(); }

  void start() override {
    stopped_ = false;
    subscribe();
  }

  void stop() override {
    stopped_ = true;
    if (retryTimer_) loop_.cancel(*retryTimer_);
    retryTimer_.reset();
    if (shared_) {
      shared_->alive = false;
      shared_.reset();
      master_.frameworkDisconnected(frameworkId_, streamId_);
    }
    streamId_.clear();
  }

  Result<void> send(Json call) override {
    if (streamId_.empty()) return Error(ErrorCode::kUnavailable, "not subscribed");
    call["framework_id"] = {{"value", frameworkId_}};
    return master_.frameworkCall(call, streamId_);
  }

  std::string frameworkId() const override { return frameworkId_; }

 private:
  void subscribe() {
    if (stopped_) return;
    Json info = info_;
    Json call = {{"type", "SUBSCRIBE"}};
    if (!frameworkId_.empty()) {
      info["id"] = {{"value", frameworkId_}};
      call["framework_id"] = {{"value", frameworkId_}};
    }
    call["subscribe"] = {{"framework_info", info}};
    shared_ = std::make_shared<InProcessSink::Shared>();
    shared_->scheduler = &scheduler_;
    shared_->onClosed = [this, s = std::weak_ptr<InProcessSink::Shared>(shared_)](const std::string& why) {
      if (s.expired() || stopped_) return;
      shared_.reset();
      streamId_.clear();
      scheduler_.disconnected(why);
      retryLater();
    };
    auto sub = master_.subscribeFramework(call, std::make_shared<InProcessSink>(loop_, shared_));
    if (!sub) {
      logger().error("framework '{}' could not subscribe: {}", info_.value("name", ""), sub.error().message);
      shared_.reset();
      if (sub.error().code != ErrorCode::kForbidden) retryLater();
      return;
    }
    frameworkId_ = sub->frameworkId;
    streamId_ = sub->streamId;
  }

  void retryLater() {
    retryTimer_ = loop_.schedule(std::chrono::milliseconds(500), [this] {
      retryTimer_.reset();
      subscribe();
    });
  }

  EventLoop& loop_;
  Master& master_;
  Json info_;
  Scheduler& scheduler_;
  std::shared_ptr<InProcessSink::Shared> shared_;
  std::string frameworkId_;
  std::string streamId_;
  std::optional<EventLoop::TimerId> retryTimer_;
  bool stopped_ = true;
};

}  // namespace

std::unique_ptr<SchedulerDriver> makeInProcessDriver(EventLoop& loop, Master& master, Json frameworkInfo,
                                                     Scheduler& scheduler) {
  return std::make_unique<InProcessDriver>(loop, master, std::move(frameworkInfo), scheduler);
}

}  // namespace dcos::kernel
