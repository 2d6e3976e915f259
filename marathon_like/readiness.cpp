#include "marathon_like/readiness.hpp"

#include "common/http/client.hpp"

#include <algorithm>

namespace dcos::marathon {

std::vector<ReadinessCheck> parseReadinessChecks(const Json& checks, const std::vector<PortDefinition>& ports,
                                                 std::vector<ErrorDetail>& violations) {
  std::vector<ReadinessCheck> out;
  if (!checks.is_array()) {
    violations.push_back({"/readinessChecks", {"error.expected.jsarray"}});
    return out;
  }
  for (size_t i = 0; i < checks.size(); ++i) {
    const Json& j = checks[i];
    std::string at = "/readinessChecks/" + std::to_string(i);
    auto fail = [&](const std::string& field, const std::string& message) {
      violations.push_back({at + (field.empty() ? "" : "/" + field), {message}});
    };
    if (!j.is_object()) {
      fail("", "error.expected.jsobject");
      continue;
    }
    ReadinessCheck c;
    auto text = [&](const char* field, std::string& into) {
      if (!j.contains(field) || j[field].is_null()) return;
      if (j[field].is_string() && !j[field].get<std::string>().empty()) {
        into = j[field].get<std::string>();
      } else {
        fail(field, "must be a non-empty string");
      }
    };
    auto seconds = [&](const char* field, int64_t& into) {
      if (!j.contains(field) || j[field].is_null()) return;
      if (j[field].is_number_integer() && j[field].get<int64_t>() >= 1) {
        into = j[field].get<int64_t>();
      } else {
        fail(field, "must be an integer >= 1");
      }
    };
    text("name", c.name);
    text("protocol", c.protocol);
    text("path", c.path);
    text("portName", c.portName);
    seconds("intervalSeconds", c.intervalSeconds);
    seconds("timeoutSeconds", c.timeoutSeconds);
    if (c.protocol != "HTTP" && c.protocol != "HTTPS") fail("protocol", "must be HTTP or HTTPS");
    if (c.path.empty() || c.path[0] != '/') fail("path", "must start with /");
    if (c.timeoutSeconds >= c.intervalSeconds) fail("timeoutSeconds", "must be less than intervalSeconds");
    if (j.contains("httpStatusCodesForReady") && !j["httpStatusCodesForReady"].is_null()) {
      const Json& codes = j["httpStatusCodesForReady"];
      c.httpStatusCodesForReady.clear();
      bool valid = codes.is_array() && !codes.empty();
      for (const auto& code : valid ? codes : Json::array()) {
        if (!code.is_number_integer() || code.get<int>() < 100 || code.get<int>() > 599) valid = false;
        if (valid) c.httpStatusCodesForReady.push_back(code.get<int>());
      }
      if (!valid) fail("httpStatusCodesForReady", "must be a non-empty array of HTTP status codes");
    }
    if (j.contains("preserveLastResponse") && !j["preserveLastResponse"].is_null()) {
      if (j["preserveLastResponse"].is_boolean()) {
        c.preserveLastResponse = j["preserveLastResponse"].get<bool>();
      } else {
        fail("preserveLastResponse", "error.expected.jsboolean");
      }
    }
    bool named = std::any_of(ports.begin(), ports.end(), [&](const PortDefinition& p) { return p.name == c.portName; });
    if (!named) fail("portName", "no port definition is named '" + c.portName + "'");
    out.push_back(std::move(c));
  }
  return out;
}

Json readinessCheckToJson(const ReadinessCheck& c) {
  return {{"name", c.name},
          {"protocol", c.protocol},
          {"path", c.path},
          {"portName", c.portName},
          {"intervalSeconds", c.intervalSeconds},
          {"timeoutSeconds", c.timeoutSeconds},
          {"httpStatusCodesForReady", c.httpStatusCodesForReady},
          {"preserveLastResponse", c.preserveLastResponse}};
}

std::optional<uint32_t> readinessPort(const ReadinessCheck& check, const std::vector<PortDefinition>& ports,
                                      const std::vector<uint32_t>& hostPorts) {
  for (size_t i = 0; i < ports.size() && i < hostPorts.size(); ++i) {
    if (ports[i].name == check.portName) return hostPorts[i];
  }
  return std::nullopt;
}

ReadinessProber::ReadinessProber(EventLoop& loop) : loop_(loop), thread_([this] { run(); }) {}

ReadinessProber::~ReadinessProber() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  cv_.notify_all();
  thread_.join();
}

void ReadinessProber::probe(std::string url, Duration timeout, std::vector<int> readyStatuses,
                            std::function<void(ProbeResult)> done) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back({std::move(url), timeout, std::move(readyStatuses), std::move(done)});
  }
  cv_.notify_one();
}

void ReadinessProber::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    http::ClientRequest req;
    req.url = job.url;
    req.timeout = job.timeout;
    req.followRedirects = false;
    req.maxBodyBytes = 1 << 20;
    req.insecureSkipVerify = true;
    ProbeResult result;
    auto r = http::fetch(req);
    if (r) {
      result.status = r->status;
      result.contentType = r->headers.count("Content-Type") ? r->headers.at("Content-Type") : "";
      result.body = r->body.substr(0, 4096);
      result.ready = std::find(job.statuses.begin(), job.statuses.end(), r->status) != job.statuses.end();
    } else {
      result.error = r.error().message;
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    loop_.post([done = std::move(job.done), result = std::move(result)] { done(result); });
  }
}

}  // namespace dcos::marathon
