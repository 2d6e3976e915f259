#include "kernel/agent/master_link.hpp"

#include "common/http/client.hpp"
#include "common/http/recordio.hpp"
#include "common/log.hpp"
#include "kernel/master/join_token.hpp"  // the header the master checks

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("agent"); }

constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr auto kCallTimeout = std::chrono::seconds(10);

std::string agentsUrl(const std::string& master) {
  std::string base = master.find("://") == std::string::npos ? "http://" + master : master;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/api/v1/agents";
}

// The master's JSON error message, or the body as text.
std::string errorMessage(int status, const std::string& body) {
  auto json = parseJson(body);
  if (json && json->is_object() && json->contains("message") && (*json)["message"].is_string()) {
    return (*json)["message"].get<std::string>();
  }
  return "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body.substr(0, 512));
}

}  // namespace

// What the stream thread and pending pool jobs share with the link. `link` is cleared by
// stop() (on the loop thread); the mutex makes posting and stopping exclusive, so nothing is
// posted to a loop the link no longer vouches for.
struct MasterLink::Channel : std::enable_shared_from_this<Channel> {
  std::mutex mu;
  EventLoop* loop = nullptr;
  MasterLink* link = nullptr;
  // Closes the stream in flight when the link stops, so its thread can be joined at once.
  std::shared_ptr<http::CancelToken> cancel = std::make_shared<http::CancelToken>();
  std::shared_ptr<http::CancelToken> callCancel = std::make_shared<http::CancelToken>();  // one exchange per token
  // Calls wait here for the link's own caller thread, in order: they never queue behind the
  // loop's blocking pool (busy starting executors when many tasks arrive at once).
  std::condition_variable callsReady;
  std::deque<std::function<void()>> calls;
  bool closing = false;

  bool stopped() {
    std::lock_guard lock(mu);
    return loop == nullptr;
  }
  void post(std::function<void(MasterLink&)> fn) {
    std::lock_guard lock(mu);
    if (!loop) return;
    loop->post([self = shared_from_this(), fn = std::move(fn)] {
      if (self->link) fn(*self->link);
    });
  }
};

MasterLink::MasterLink(EventLoop& loop, std::string master, Handlers handlers, std::string joinToken)
    : loop_(loop), master_(std::move(master)), url_(agentsUrl(master_)),
      authorization_(joinToken.empty() ? "" : joinTokenHeader(joinToken)), handlers_(std::move(handlers)),
      channel_(std::make_shared<Channel>()) {
  channel_->loop = &loop_;
  channel_->link = this;
}

MasterLink::~MasterLink() { stop(); }

void MasterLink::stop() {
  {
    std::lock_guard lock(channel_->mu);
    channel_->loop = nullptr;
    channel_->link = nullptr;
    channel_->closing = true;
  }
  connected_ = false;
  channel_->cancel->cancel();
  channel_->callCancel->cancel();
  channel_->callsReady.notify_all();
  if (thread_.joinable()) thread_.join();
  if (callThread_.joinable()) callThread_.join();
  // Calls still queued hold the channel (a cycle through `calls`): drop them, unsent.
  std::deque<std::function<void()>> unsent;
  {
    std::lock_guard lock(channel_->mu);
    unsent.swap(channel_->calls);
  }
}

void MasterLink::subscribe(const Json& call, Duration idleTimeout) {
  if (channel_->stopped()) return;
  if (thread_.joinable()) thread_.join();  // its stream was reported closed: it is returning
  uint64_t generation = ++generation_;
  connected_ = false;
  streamId_.clear();
  thread_ = std::thread(&MasterLink::streamThread, channel_, generation, url_, authorization_, call.dump(), idleTimeout);
}

void MasterLink::streamThread(std::shared_ptr<Channel> channel, uint64_t generation, std::string url,
                              std::string authorization, std::string body, Duration idle) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/recordio"}};
  if (!authorization.empty()) request.headers["Authorization"] = authorization;
  request.body = std::move(body);
  request.timeout = kCallTimeout;
  request.cancel = channel->cancel;
  http::RecordIoDecoder decoder;
  int status = 0;
  std::string errorBody;
  std::optional<Error> streamError;

  auto onHead = [&](const http::ClientResponse& head) {
    status = head.status;
    if (status != 200) return;
    auto it = head.headers.find("Mesos-Stream-Id");
    std::string streamId = it == head.headers.end() ? "" : it->second;
    channel->post([generation, streamId](MasterLink& link) {
      if (link.generation_ != generation) return;
      link.connected_ = true;
      link.streamId_ = streamId;
    });
  };
  auto onData = [&](std::string_view piece) -> bool {
    if (channel->stopped()) return false;
    if (status != 200) {
      errorBody.append(piece.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, errorBody.size())));
      return true;
    }
    auto records = decoder.feed(piece);
    if (!records) {
      streamError = records.error();
      return false;
    }
    for (auto& record : *records) {
      auto event = parseJson(record);
      if (!event || !event->is_object()) {
        streamError = Error(ErrorCode::kInvalidArgument, "the master sent an event that is not a JSON object");
        return false;
      }
      channel->post([generation, event = std::move(*event)](MasterLink& link) {
        if (link.generation_ != generation) return;
        // The stream id is also in SUBSCRIBED, for masters behind proxies that drop headers.
        if (link.streamId_.empty() && event.value("type", "") == "SUBSCRIBED") {
          link.streamId_ = event.value("/subscribed/stream_id"_json_pointer, std::string());
        }
        if (link.handlers_.onEvent) link.handlers_.onEvent(event);
      });
    }
    return true;
  };

  auto response = http::fetchStream(request, onData, idle, onHead);
  Error why;
  int failedStatus = 0;
  if (!response) {
    why = response.error();
  } else if (streamError) {
    why = *streamError;
  } else if (response->status != 200) {
    failedStatus = response->status;
    why = Error(response->status == 403   ? ErrorCode::kForbidden
                : response->status == 401 ? ErrorCode::kUnauthorized
                                          : ErrorCode::kUnavailable,
                errorMessage(response->status, errorBody));
  } else {
    why = Error(ErrorCode::kUnavailable, "the master closed the event stream");
  }
  channel->post([generation, why, failedStatus](MasterLink& link) {
    if (link.generation_ != generation) return;
    link.connected_ = false;
    if (link.handlers_.onClosed) link.handlers_.onClosed(why, failedStatus);
  });
}

void MasterLink::call(const Json& call, std::function<void(Result<int>)> done) {
  if (channel_->stopped()) return;
  http::ClientRequest request;
  request.method = "POST";
  request.url = url_;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  if (!streamId_.empty()) request.headers["Mesos-Stream-Id"] = streamId_;
  if (!authorization_.empty()) request.headers["Authorization"] = authorization_;
  request.body = call.dump();
  request.timeout = kCallTimeout;
  request.cancel = channel_->callCancel;
  auto job = [channel = channel_, request, done = std::move(done), type = call.value("type", std::string())] {
    auto result = std::make_shared<Result<http::ClientResponse>>(http::fetch(request));
    channel->post([result, done, type](MasterLink&) {
      if (!*result) {
        logger().debug("{} call failed: {}", type, result->error().message);
        if (done) done(result->error());
        return;
      }
      if ((*result)->status >= 300) {
        logger().debug("{} call answered {}: {}", type, (*result)->status, errorMessage((*result)->status, (*result)->body));
      }
      if (done) done((*result)->status);
    });
  };
  {
    std::lock_guard lock(channel_->mu);
    channel_->calls.push_back(std::move(job));
  }
  channel_->callsReady.notify_one();
  if (!callThread_.joinable()) {
    callThread_ = std::thread([channel = channel_] {
      std::unique_lock lock(channel->mu);
      for (;;) {
        channel->callsReady.wait(lock, [&] { return channel->closing || !channel->calls.empty(); });
        if (channel->closing) return;
        auto next = std::move(channel->calls.front());
        channel->calls.pop_front();
        lock.unlock();
        next();
        lock.lock();
      }
    });
  }
}

}  // namespace dcos::kernel
