#include "kernel/resources/resources.hpp"

#include <algorithm>
#include <cctype>
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

Scalar Scalar::fromDouble(double v) { return Scalar(static_cast<int64_t>(std::llround(v * 1000.0))); }

Ranges::Ranges(std::vector<Range> ranges) {
  std::sort(ranges.begin(), ranges.end());
  for (const auto& r : ranges) {
    if (r.begin > r.end) continue;
    if (!ranges_.empty() && (r.begin <= ranges_.back().end || r.begin == ranges_.back().end + 1)) {
      ranges_.back().end = std::max(ranges_.back().end, r.end);
    } else {
      ranges_.push_back(r);
    }
  }
}

uint64_t Ranges::count() const {
  uint64_t n = 0;
  for (const auto& r : ranges_) n += r.end - r.begin + 1;
  return n;
}

bool Ranges::contains(uint64_t value) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), value,
                             [](uint64_t v, const Range& r) { return v < r.begin; });
  return it != ranges_.begin() && std::prev(it)->end >= value;
}

bool Ranges::contains(const Ranges& other) const {
  for (const auto& r : other.ranges_) {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), r.begin,
                               [](uint64_t v, const Range& x) { return v < x.begin; });
    if (it == ranges_.begin() || std::prev(it)->end < r.end) return false;
  }
  return true;
}

Ranges Ranges::operator+(const Ranges& o) const {
  std::vector<Range> all = ranges_;
  all.insert(all.end(), o.ranges_.begin(), o.ranges_.end());
  return Ranges(std::move(all));
}

Ranges Ranges::operator-(const Ranges& o) const {
  std::vector<Range> out;
  size_t j = 0;
  for (Range r : ranges_) {
    while (j < o.ranges_.size() && o.ranges_[j].end < r.begin) ++j;
    size_t k = j;
    bool alive = true;
    while (alive && k < o.ranges_.size() && o.ranges_[k].begin <= r.end) {
      const Range& cut = o.ranges_[k];
      if (cut.begin > r.begin) out.push_back({r.begin, cut.begin - 1});
      if (cut.end >= r.end) {
        alive = false;
      } else {
        r.begin = cut.end + 1;
      }
      ++k;
    }
    if (alive) out.push_back(r);
  }
  return Ranges(std::move(out));
}

std::string Ranges::toString() const {
  std::string out = "[";
  for (size_t i = 0; i < ranges_.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(ranges_[i].begin) + "-" + std::to_string(ranges_[i].end);
  }
  return out + "]";
}

bool Resource::empty() const {
  switch (type) {
    case ValueType::kScalar: return scalar.millis() == 0;
    case ValueType::kRanges: return ranges.empty();
    case ValueType::kSet: return set.empty();
  }
  return true;
}

bool Resource::sameKind(const Resource& o) const {
  return name == o.name && type == o.type && role == o.role && allocationRole == o.allocationRole;
}

void Resources::add(const Resource& r) {
  if (r.empty()) return;
  for (auto& item : items_) {
    if (!item.sameKind(r)) continue;
    switch (r.type) {
      case ValueType::kScalar: item.scalar += r.scalar; break;
      case ValueType::kRanges: item.ranges = item.ranges + r.ranges; break;
      case ValueType::kSet: item.set.insert(r.set.begin(), r.set.end()); break;
    }
    return;
  }
  items_.push_back(r);
}

void Resources::subtract(const Resource& r) {
  for (auto it = items_.begin(); it != items_.end(); ++it) {
    if (!it->sameKind(r)) continue;
    switch (r.type) {
      case ValueType::kScalar:
        it->scalar -= r.scalar;
        if (it->scalar.millis() < 0) it->scalar = Scalar();
        break;
      case ValueType::kRanges: it->ranges = it->ranges - r.ranges; break;
      case ValueType::kSet:
        for (const auto& s : r.set) it->set.erase(s);
        break;
    }
    if (it->empty()) items_.erase(it);
    return;
  }
}

Resources& Resources::operator+=(const Resources& o) {
  for (const auto& r : o.items_) add(r);
  return *this;
}

Resources& Resources::operator-=(const Resources& o) {
  for (const auto& r : o.items_) subtract(r);
  return *this;
}

Resources Resources::operator+(const Resources& o) const {
  Resources out = *this;
  out += o;
  return out;
}

Resources Resources::operator-(const Resources& o) const {
  Resources out = *this;
  out -= o;
  return out;
}

bool Resources::contains(const Resource& r) const {
  if (r.empty()) return true;
  for (const auto& item : items_) {
    if (!item.sameKind(r)) continue;
    switch (r.type) {
      case ValueType::kScalar: return item.scalar >= r.scalar;
      case ValueType::kRanges: return item.ranges.contains(r.ranges);
      case ValueType::kSet:
        return std::includes(item.set.begin(), item.set.end(), r.set.begin(), r.set.end());
    }
  }
  return false;
}

bool Resources::contains(const Resources& o) const {
  // Entries are normalized (one per kind), so checking each of o's entries is enough.
  return std::all_of(o.items_.begin(), o.items_.end(), [&](const Resource& r) { return contains(r); });
}

bool Resources::operator==(const Resources& o) const { return contains(o) && o.contains(*this); }

Scalar Resources::scalar(const std::string& name) const {
  Scalar total;
  for (const auto& r : items_) {
    if (r.name == name && r.type == ValueType::kScalar) total += r.scalar;
  }
  return total;
}

Ranges Resources::ranges(const std::string& name) const {
  Ranges total;
  for (const auto& r : items_) {
    if (r.name == name && r.type == ValueType::kRanges) total = total + r.ranges;
  }
  return total;
}

std::set<std::string> Resources::scalarNames() const {
  std::set<std::string> names;
  for (const auto& r : items_) {
    if (r.type == ValueType::kScalar) names.insert(r.name);
  }
  return names;
}

namespace {
template <typename Pred>
Resources filterBy(const std::vector<Resource>& items, Pred pred) {
  Resources out;
  for (const auto& r : items) {
    if (pred(r)) out.add(r);
  }
  return out;
}
}  // namespace

Resources Resources::unreserved() const { return filterBy(items_, [](const Resource& r) { return !r.reserved(); }); }

Resources Resources::reservedFor(const std::string& role) const {
  return filterBy(items_, [&](const Resource& r) { return r.reserved() && r.role == role; });
}

Resources Resources::availableTo(const std::string& role) const {
  return filterBy(items_, [&](const Resource& r) { return !r.reserved() || r.role == role; });
}

Resources Resources::allocatedTo(const std::string& role) const {
  return filterBy(items_, [&](const Resource& r) { return r.allocationRole == role; });
}

Resources Resources::allocate(const std::string& role) const {
  Resources out;
  for (auto r : items_) {
    r.allocationRole = role;
    out.add(r);
  }
  return out;
}

Resources Resources::unallocated() const { return allocate(""); }

Result<void> validateRole(const std::string& role) {
  if (role == "*") return success();
  if (role.empty()) return Error(ErrorCode::kInvalidArgument, "role must not be empty");
  if (role == "." || role == "..") return Error(ErrorCode::kInvalidArgument, "role '" + role + "' is reserved");
  if (role.front() == '-') return Error(ErrorCode::kInvalidArgument, "role '" + role + "' must not start with '-'");
  if (role.front() == '/' || role.back() == '/' || role.find("//") != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "role '" + role + "' has an empty path component");
  }
  for (unsigned char c : role) {
    if (std::isspace(c) || c == '\\' || c < 0x20 || c == 0x7f) {
      return Error(ErrorCode::kInvalidArgument, "role '" + role + "' contains an invalid character");
    }
  }
  return success();
}

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
