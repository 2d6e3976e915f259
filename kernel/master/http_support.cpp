#include "kernel/master/http_support.hpp"

namespace dcos::kernel {

bool StreamSink::send(const Json& event) {
  std::string frame = http::recordIoFrame(event.dump(-1, ' ', false, Json::error_handler_t::replace));
  if (!stream_) {
    pending_.push_back(std::move(frame));
    return !closed_;
  }
  return stream_->write(std::move(frame));
}

void StreamSink::close() {
  closed_ = true;
  if (stream_) stream_->close();
}

void StreamSink::attach(std::shared_ptr<http::ResponseStream> stream) {
  stream_ = std::move(stream);
  for (auto& f : pending_) stream_->write(std::move(f));
  pending_.clear();
  if (closed_) stream_->close();
}

http::Headers streamHeaders(const http::Request& req, const std::string& streamId) {
  http::Headers h;
  bool recordio = req.header("Accept").find("application/recordio") != std::string::npos;
  h["Content-Type"] = recordio ? "application/recordio" : "application/json";
  if (recordio) h["Message-Content-Type"] = "application/json";
  if (!streamId.empty()) h["Mesos-Stream-Id"] = streamId;
  h["Cache-Control"] = "no-cache";
  return h;
}

Result<Json> parseCall(const http::Request& req) {
  std::string ct = req.header("Content-Type");
  if (ct.find("application/x-protobuf") != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "Only 'application/json' calls are supported, not protobuf");
  }
  auto call = parseJson(req.body);
  if (!call) return call.error();
  if (!call->is_object()) return Error(ErrorCode::kInvalidArgument, "A call must be a JSON object", {{"/", {"expected an object"}}});
  if (!call->contains("type") || !(*call)["type"].is_string()) {
    return Error(ErrorCode::kInvalidArgument, "Expecting 'type' to be present", {{"/type", {"missing call type"}}});
  }
  return call;
}

http::Response accepted() {
  http::Response r;
  r.status = 202;
  return r;
}

}  // namespace dcos::kernel
