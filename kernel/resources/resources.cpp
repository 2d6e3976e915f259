#include "kernel/resources/resources.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace dcos::kernel {

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

}  // namespace dcos::kernel
