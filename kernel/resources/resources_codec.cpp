// Text and JSON forms of resources: Mesos' "--resources" syntax, v1 JSON, and the readable
// string used in logs and error messages.
#include "kernel/resources/resources.hpp"

#include <cmath>
#include <sstream>

namespace dcos::kernel {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

std::string formatScalar(Scalar s) {
  int64_t m = s.millis();
  std::string out = std::to_string(m / 1000);
  int64_t frac = std::llabs(m % 1000);
  if (m < 0 && m > -1000) out = "-" + out;
  if (frac) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(frac));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out;
}

Error invalid(const std::string& path, const std::string& message) {
  return Error(ErrorCode::kInvalidArgument, "Invalid resources: " + message, {{path, {message}}});
}

// Scalars above this are refused: far beyond any machine, and it keeps millis in int64.
constexpr double kMaxScalar = 1e12;

}  // namespace

Result<Resources> Resources::parse(const std::string& text, const std::string& defaultRole) {
  Resources out;
  std::stringstream ss(text);
  std::string token;
  while (std::getline(ss, token, ';')) {
    token = trim(token);
    if (token.empty()) continue;
    auto colon = token.find(':');
    if (colon == std::string::npos) return invalid("/resources", "'" + token + "' is not name:value");
    std::string key = trim(token.substr(0, colon));
    std::string value = trim(token.substr(colon + 1));
    Resource r;
    r.role = defaultRole;
    auto paren = key.find('(');
    if (paren != std::string::npos) {
      if (key.back() != ')') return invalid("/resources", "'" + key + "' has an unclosed role");
      r.role = key.substr(paren + 1, key.size() - paren - 2);
      key = trim(key.substr(0, paren));
    }
    if (auto v = validateRole(r.role); !v) return invalid("/resources", v.error().message);
    if (key.empty()) return invalid("/resources", "'" + token + "' has no resource name");
    r.name = key;
    if (value.empty()) return invalid("/resources", "'" + key + "' has no value");
    if (value.front() == '[') {
      if (value.back() != ']') return invalid("/resources", "'" + value + "' has an unclosed range");
      r.type = ValueType::kRanges;
      std::vector<Range> ranges;
      std::stringstream rs(value.substr(1, value.size() - 2));
      std::string part;
      while (std::getline(rs, part, ',')) {
        part = trim(part);
        if (part.empty()) continue;
        auto dash = part.find('-');
        try {
          size_t used = 0;
          uint64_t b = std::stoull(part.substr(0, dash), &used);
          uint64_t e = dash == std::string::npos ? b : std::stoull(part.substr(dash + 1));
          if (part[0] == '-' || b > e) throw std::invalid_argument("order");
          ranges.push_back({b, e});
        } catch (const std::exception&) {
          return invalid("/resources", "'" + part + "' in " + key + " is not a range like 31000-32000");
        }
      }
      r.ranges = Ranges(std::move(ranges));
    } else if (value.front() == '{') {
      if (value.back() != '}') return invalid("/resources", "'" + value + "' has an unclosed set");
      r.type = ValueType::kSet;
      std::stringstream is(value.substr(1, value.size() - 2));
      std::string item;
      while (std::getline(is, item, ',')) {
        item = trim(item);
        if (!item.empty()) r.set.insert(item);
      }
    } else {
      r.type = ValueType::kScalar;
      char* end = nullptr;
      double d = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0' || !std::isfinite(d)) {
        return invalid("/resources", "'" + value + "' for " + key + " is not a number");
      }
      if (d < 0) return invalid("/resources", key + " must not be negative");
      if (d > kMaxScalar) return invalid("/resources", key + " is too large");
      r.scalar = Scalar::fromDouble(d);
    }
    out.add(r);
  }
  return out;
}

Result<Resources> Resources::fromJson(const Json& json, const std::string& path) {
  if (!json.is_array()) return invalid(path, "expected an array of resources");
  Resources out;
  for (size_t i = 0; i < json.size(); ++i) {
    const Json& j = json[i];
    std::string p = path + "/" + std::to_string(i);
    if (!j.is_object()) return invalid(p, "expected an object");
    if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty()) {
      return invalid(p + "/name", "a resource needs a name");
    }
    Resource r;
    r.name = j["name"].get<std::string>();
    std::string type = j.value("type", std::string("SCALAR"));
    if (j.contains("role") && j["role"].is_string()) r.role = j["role"].get<std::string>();
    if (j.contains("reservations") && j["reservations"].is_array() && !j["reservations"].empty()) {
      const Json& last = j["reservations"].back();
      if (!last.is_object() || !last.contains("role") || !last["role"].is_string()) {
        return invalid(p + "/reservations", "each reservation needs a role");
      }
      r.role = last["role"].get<std::string>();
    }
    if (auto v = validateRole(r.role); !v) return invalid(p + "/role", v.error().message);
    if (j.contains("allocation_info") && j["allocation_info"].is_object()) {
      r.allocationRole = j["allocation_info"].value("role", std::string());
    }
    if (type == "SCALAR") {
      r.type = ValueType::kScalar;
      const Json* v = j.contains("scalar") && j["scalar"].is_object() && j["scalar"].contains("value")
                          ? &j["scalar"]["value"] : nullptr;
      if (!v || !v->is_number()) return invalid(p + "/scalar/value", "expected a number");
      double d = v->get<double>();
      if (!std::isfinite(d)) return invalid(p + "/scalar/value", "must be a finite number");
      if (d < 0) return invalid(p + "/scalar/value", "must not be negative");
      if (d > kMaxScalar) return invalid(p + "/scalar/value", "is too large");
      r.scalar = Scalar::fromDouble(d);
    } else if (type == "RANGES") {
      r.type = ValueType::kRanges;
      const Json* rs = j.contains("ranges") && j["ranges"].is_object() && j["ranges"].contains("range")
                           ? &j["ranges"]["range"] : nullptr;
      if (!rs || !rs->is_array()) return invalid(p + "/ranges/range", "expected an array of ranges");
      std::vector<Range> ranges;
      for (size_t k = 0; k < rs->size(); ++k) {
        const Json& x = (*rs)[k];
        if (!x.is_object() || !x.contains("begin") || !x.contains("end") || !x["begin"].is_number_unsigned() ||
            !x["end"].is_number_unsigned() || x["begin"].get<uint64_t>() > x["end"].get<uint64_t>()) {
          return invalid(p + "/ranges/range/" + std::to_string(k), "expected {\"begin\": N, \"end\": M} with N <= M");
        }
        ranges.push_back({x["begin"].get<uint64_t>(), x["end"].get<uint64_t>()});
      }
      r.ranges = Ranges(std::move(ranges));
    } else if (type == "SET") {
      r.type = ValueType::kSet;
      const Json* items = j.contains("set") && j["set"].is_object() && j["set"].contains("item")
                              ? &j["set"]["item"] : nullptr;
      if (!items || !items->is_array()) return invalid(p + "/set/item", "expected an array of strings");
      for (const auto& item : *items) {
        if (!item.is_string()) return invalid(p + "/set/item", "expected an array of strings");
        r.set.insert(item.get<std::string>());
      }
    } else {
      return invalid(p + "/type", "unknown resource type '" + type + "' (SCALAR, RANGES or SET)");
    }
    out.add(r);
  }
  return out;
}

Json Resources::toJson() const {
  Json out = Json::array();
  for (const auto& r : items_) {
    Json j = {{"name", r.name}, {"role", r.role}};
    switch (r.type) {
      case ValueType::kScalar:
        j["type"] = "SCALAR";
        j["scalar"] = {{"value", r.scalar.toDouble()}};
        break;
      case ValueType::kRanges: {
        j["type"] = "RANGES";
        Json range = Json::array();
        for (const auto& x : r.ranges.ranges()) range.push_back({{"begin", x.begin}, {"end", x.end}});
        j["ranges"] = {{"range", range}};
        break;
      }
      case ValueType::kSet:
        j["type"] = "SET";
        j["set"] = {{"item", Json(r.set)}};
        break;
    }
    if (r.reserved()) j["reservations"] = Json::array({{{"type", "STATIC"}, {"role", r.role}}});
    if (!r.allocationRole.empty()) j["allocation_info"] = {{"role", r.allocationRole}};
    out.push_back(std::move(j));
  }
  return out;
}

std::string Resources::toString() const {
  std::string out;
  for (const auto& r : items_) {
    if (!out.empty()) out += "; ";
    out += r.name + "(" + r.role + ")";
    if (!r.allocationRole.empty()) out += "{" + r.allocationRole + "}";
    out += ":";
    switch (r.type) {
      case ValueType::kScalar: out += formatScalar(r.scalar); break;
      case ValueType::kRanges: out += r.ranges.toString(); break;
      case ValueType::kSet: {
        out += "{";
        bool first = true;
        for (const auto& s : r.set) {
          out += (first ? "" : ",") + s;
          first = false;
        }
        out += "}";
        break;
      }
    }
  }
  return out;
}

}  // namespace dcos::kernel
