// Argument parsing, the error → exit code mapping and the small formatting helpers the command
// files share.
#include "cli/context.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace dcos::cli {
namespace {

// usageError() marks its Error with this detail; it is never printed (only the message is).
const char* const kUsageMarker = "\x01usage";

}  // namespace

Error usageError(const std::string& message) {
  return Error(ErrorCode::kInvalidArgument, message, {ErrorDetail{kUsageMarker, {}}});
}

int exitCodeFor(const Error& error) {
  bool usage = std::any_of(error.details.begin(), error.details.end(),
                           [](const ErrorDetail& d) { return d.path == kUsageMarker; });
  if (usage) return kExitUsage;
  if (error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kTimeout) return kExitUnreachable;
  return kExitRefused;
}

std::optional<std::string> Args::value(const std::string& flag) const {
  auto it = values.find(flag);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

Result<Args> parseArgs(const std::vector<std::string>& words, const std::vector<std::string>& flags) {
  // flag name -> whether it takes a value
  std::map<std::string, bool> known{{"help", false}};
  for (const auto& f : flags) {
    bool takesValue = !f.empty() && f.back() == '=';
    known[takesValue ? f.substr(0, f.size() - 1) : f] = takesValue;
  }
  Args args;
  bool flagsEnded = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (flagsEnded || word == "-" || word.empty() || word[0] != '-') {
      args.positional.push_back(word);
      continue;
    }
    if (word == "--") {
      flagsEnded = true;
      continue;
    }
    if (word == "-h") {
      args.switches["help"] = true;
      continue;
    }
    if (word.rfind("--", 0) != 0) return usageError("unknown flag '" + word + "' (flags are written --name)");
    std::string name = word.substr(2);
    std::optional<std::string> inlineValue;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      inlineValue = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto it = known.find(name);
    if (it == known.end()) return usageError("unknown flag --" + name);
    if (!it->second) {
      if (inlineValue) return usageError("flag --" + name + " takes no value");
      args.switches[name] = true;
      continue;
    }
    if (inlineValue) {
      args.values[name] = *inlineValue;
    } else if (i + 1 < words.size()) {
      args.values[name] = words[++i];
    } else {
      return usageError("flag --" + name + " needs a value");
    }
  }
  return args;
}

Error serverError(int status, const std::string& body) {
  auto json = parseJson(body);
  std::string message;
  std::vector<std::string> parts;
  if (json && json->is_object()) {
    if (auto m = json->find("message"); m != json->end() && m->is_string()) message = m->get<std::string>();
    if (auto d = json->find("details"); d != json->end() && d->is_array()) {
      for (const auto& detail : *d) {
        if (!detail.is_object()) continue;
        std::string path = detail.value("path", "");
        for (const auto& e : detail.value("errors", Json::array())) {
          std::string text = e.is_string() ? e.get<std::string>() : e.dump();
          if (text == message) continue;  // Mesos-style answers repeat the message as the detail
          parts.push_back(path.empty() ? text : path + ": " + text);
        }
      }
    }
  }
  if (message.empty()) {
    std::string firstLine = body.substr(0, body.find('\n'));
    if (firstLine.size() > 200) firstLine = firstLine.substr(0, 200) + "...";
    message = "HTTP " + std::to_string(status);
    if (!firstLine.empty()) message += ": " + firstLine;
  }
  if (!parts.empty()) {
    message += " (";
    for (size_t i = 0; i < parts.size(); ++i) message += (i ? "; " : "") + parts[i];
    message += ")";
  }
  ErrorCode code = ErrorCode::kIo;
  switch (status) {
    case 400: code = ErrorCode::kInvalidArgument; break;
    case 401: code = ErrorCode::kUnauthorized; break;
    case 403: code = ErrorCode::kForbidden; break;
    case 404: code = ErrorCode::kNotFound; break;
    case 405: code = ErrorCode::kMethodNotAllowed; break;
    case 409: code = ErrorCode::kConflict; break;
    case 413: code = ErrorCode::kPayloadTooLarge; break;
    case 422: code = ErrorCode::kUnprocessable; break;
    default: break;
  }
  return Error(code, message);
}

std::string formatTime(double epochSeconds) {
  if (epochSeconds <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(epochSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string formatScalar(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", std::round(value * 1000) / 1000);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

}  // namespace dcos::cli
