#pragma once
// HTTP messages as plain data, shared by the server, the router, the client and every API
// handler. No Beast here: handlers and components include only this header.

#include "common/json.hpp"
#include "common/result.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dcos::http {

struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
  using is_transparent = void;
};

using Headers = std::map<std::string, std::string, CaseInsensitiveLess>;

struct Request {
  std::string method;                         // "GET", "POST", ...
  std::string target;                         // as received: "/v2/apps?embed=apps.tasks"
  std::string path;                           // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order, repeats kept
  Headers headers;
  std::string body;
  std::map<std::string, std::string> params;  // path parameters filled in by the router
  std::string remoteAddress;

  // The first value of a query parameter, if present.
  std::optional<std::string> queryParam(std::string_view name) const;
  // Every value of a query parameter (e.g. Marathon's repeated `embed=`).
  std::vector<std::string> queryParams(std::string_view name) const;
  std::string header(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  static Response json(int status, const Json& body);
  static Response text(int status, std::string body, std::string contentType = "text/plain; charset=utf-8");
  // The JSON error body with the status for the error's code.
  static Response error(const Error& error);
  static Response error(int status, std::string message, std::vector<ErrorDetail> details = {});
};

// A response whose body is written piece by piece (chunked transfer encoding): RecordIO event
// streams and Server-Sent Events. Safe to use from any thread.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Queues one piece; false once the stream is closed (client gone or close() called).
  virtual bool write(std::string data) = 0;
  // Ends the response (final chunk) once the queued pieces are sent.
  virtual void close() = 0;
  virtual bool closed() const = 0;
  // Called once, on the event loop, when the stream ends for any reason: the client went away,
  // a write failed, close() finished, or the server shut down. Called at once if already closed.
  virtual void onClose(std::function<void()> fn) = 0;
};

// Handed to a handler to answer exactly one request, now or later, from any thread.
class Responder {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void send(Response response) = 0;
    virtual std::shared_ptr<ResponseStream> stream(int status, Headers headers) = 0;
  };
  explicit Responder(std::shared_ptr<Sink> sink) : sink_(std::move(sink)) {}

  void send(Response response) const { sink_->send(std::move(response)); }
  std::shared_ptr<ResponseStream> stream(int status, Headers headers) const {
    return sink_->stream(status, std::move(headers));
  }

 private:
  std::shared_ptr<Sink> sink_;
};

using AsyncHandler = std::function<void(Request& request, Responder responder)>;
using Handler = std::function<Response(const Request& request)>;

// Framing helpers for streamed bodies.
std::string recordIoFrame(std::string_view record);  // "<length>\n<record>" (Mesos RecordIO)
std::string sseEvent(std::string_view event, std::string_view data);  // "event: ..\ndata: ..\n\n"
std::string sseComment(std::string_view text);                        // ": text\n\n" (keep-alive)

std::string percentDecode(std::string_view s, bool plusAsSpace);
std::string percentEncode(std::string_view s);
const char* reasonPhrase(int status);

}  // namespace dcos::http
