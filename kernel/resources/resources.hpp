#pragma once
// The resource model: named scalars (cpus, mem, disk, gpus), ranges (ports) and sets, each
// unreserved ("*") or statically reserved for a role, and optionally allocated to a role.
// Scalars are fixed-point with Mesos' 0.001 granularity, so arithmetic never drifts.
// Pure values: no I/O, no clock; safe to copy across threads.

#include "common/json.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dcos::kernel {

// A non-negative-or-negative amount in thousandths. fromDouble rounds to the nearest 0.001.
class Scalar {
 public:
  constexpr Scalar() = default;
  static constexpr Scalar fromMillis(int64_t m) { return Scalar(m); }
  static Scalar fromDouble(double v);
  double toDouble() const { return static_cast<double>(millis_) / 1000.0; }
  int64_t millis() const { return millis_; }

  Scalar operator+(Scalar o) const { return Scalar(millis_ + o.millis_); }
  Scalar operator-(Scalar o) const { return Scalar(millis_ - o.millis_); }
  Scalar& operator+=(Scalar o) { millis_ += o.millis_; return *this; }
  Scalar& operator-=(Scalar o) { millis_ -= o.millis_; return *this; }
  auto operator<=>(const Scalar&) const = default;

 private:
  explicit constexpr Scalar(int64_t m) : millis_(m) {}
  int64_t millis_ = 0;
};

struct Range {
  uint64_t begin = 0;
  uint64_t end = 0;  // inclusive
  auto operator<=>(const Range&) const = default;
};

// Sorted, non-overlapping, non-adjacent ranges.
class Ranges {
 public:
  Ranges() = default;
  explicit Ranges(std::vector<Range> ranges);  // normalizes
  const std::vector<Range>& ranges() const { return ranges_; }
  bool empty() const { return ranges_.empty(); }
  uint64_t count() const;  // number of values covered
  bool contains(const Ranges& other) const;
  bool contains(uint64_t value) const;
  Ranges operator+(const Ranges& o) const;
  Ranges operator-(const Ranges& o) const;
  bool operator==(const Ranges&) const = default;
  std::string toString() const;  // "[31000-31005, 31010-31010]"

 private:
  std::vector<Range> ranges_;
};

enum class ValueType { kScalar, kRanges, kSet };

struct Resource {
  std::string name;
  ValueType type = ValueType::kScalar;
  Scalar scalar;
  Ranges ranges;
  std::set<std::string> set;
  std::string role = "*";       // reservation role; "*" = unreserved (static reservations only)
  std::string allocationRole;   // allocation_info.role; empty = not allocated

  bool reserved() const { return role != "*"; }
  bool empty() const;
  // Same name, type, reservation and allocation: amounts can be added and subtracted.
  bool sameKind(const Resource& o) const;
  bool operator==(const Resource&) const = default;
};

// A bag of resources, kept normalized: one entry per kind, no empty entries.
class Resources {
 public:
  Resources() = default;

  // Mesos' text syntax: "cpus:4;mem:2048;ports:[31000-32000];cpus(ads):2;zones:{a,b}".
  // A resource without "(role)" gets `defaultRole`. Negative, NaN or malformed amounts fail.
  static Result<Resources> parse(const std::string& text, const std::string& defaultRole = "*");
  // Mesos v1 JSON: an array of Resource objects. `path` names the field for error details.
  static Result<Resources> fromJson(const Json& json, const std::string& path = "/resources");
  // Mesos v1 JSON, with both "role" and "reservations" filled so old and new clients read it.
  Json toJson() const;
  std::string toString() const;  // "cpus(*):4; mem(*):2048; ports(*):[31000-32000]"

  void add(const Resource& r);
  // Removes r; the caller must know it is contained (else the result is clamped at zero).
  void subtract(const Resource& r);
  Resources& operator+=(const Resources& o);
  Resources& operator-=(const Resources& o);
  Resources operator+(const Resources& o) const;
  Resources operator-(const Resources& o) const;
  bool contains(const Resources& o) const;
  bool contains(const Resource& r) const;
  bool operator==(const Resources& o) const;

  bool empty() const { return items_.empty(); }
  const std::vector<Resource>& items() const { return items_; }

  // Sum of a scalar over every reservation and allocation ("cpus" -> 4.5).
  Scalar scalar(const std::string& name) const;
  Ranges ranges(const std::string& name) const;
  Scalar cpus() const { return scalar("cpus"); }
  Scalar mem() const { return scalar("mem"); }
  Scalar disk() const { return scalar("disk"); }
  // Names of the scalar resources present ("cpus", "mem", ...).
  std::set<std::string> scalarNames() const;

  Resources unreserved() const;
  Resources reservedFor(const std::string& role) const;
  // What a framework in `role` may use: unreserved plus reserved for that role.
  Resources availableTo(const std::string& role) const;
  Resources allocatedTo(const std::string& role) const;
  // Copies with allocation_info set to `role` / cleared.
  Resources allocate(const std::string& role) const;
  Resources unallocated() const;

 private:
  std::vector<Resource> items_;
};

// Checks that a role name is valid as Mesos requires: not empty, not "." or "..", no leading
// "-", no whitespace, no "/" at either end or "//"; "*" is the unreserved role.
Result<void> validateRole(const std::string& role);

}  // namespace dcos::kernel
