#pragma once
// Pieces shared by the master's HTTP APIs (scheduler, agent and operator calls): parsing a JSON
// call, and delivering events to a subscriber over a chunked RecordIO response.

#include "common/http/http.hpp"
#include "common/json.hpp"
#include "common/result.hpp"
#include "kernel/master/records.hpp"

#include <memory>
#include <string>
#include <vector>

namespace dcos::kernel {

// Events for one subscriber, framed as RecordIO on a chunked HTTP response. Events sent before
// the response exists (SUBSCRIBED is produced while the subscription is validated) are kept and
// written as soon as it does. Loop thread only.
class StreamSink : public EventSink {
 public:
  bool send(const Json& event) override;
  void close() override;
  void attach(std::shared_ptr<http::ResponseStream> stream);

 private:
  std::shared_ptr<http::ResponseStream> stream_;
  std::vector<std::string> pending_;
  bool closed_ = false;
};

// Headers of an event stream: Mesos answers in JSON when asked for JSON, RecordIO framing either
// way. `streamId` goes into Mesos-Stream-Id unless empty.
http::Headers streamHeaders(const http::Request& req, const std::string& streamId);

// The body of a call: a JSON object with a string "type". kInvalidArgument otherwise (and for a
// protobuf body, which only the JSON API is built for).
Result<Json> parseCall(const http::Request& req);

http::Response accepted();  // 202, no body

}  // namespace dcos::kernel
