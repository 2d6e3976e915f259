#pragma once
// Dominant Resource Fairness bookkeeping for the allocator (internal to kernel/allocator):
// scalar quantities as dense vectors of thousandths, dominant shares over a cluster total, and
// a sorted (share, name) order that moves one member at a time when its share changes. These
// keep a round's ordering cost at O(log n) per grant instead of re-sorting everyone.

#include "kernel/resources/resources.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace dcos::kernel::drf {

// Scalar resource names ("cpus", "mem", ...) interned to small dense indices, so shares are
// computed over vectors instead of name lookups.
class ScalarNames {
 public:
  size_t indexOf(const std::string& name);  // interns names on first use
  size_t size() const { return index_.size(); }

 private:
  std::unordered_map<std::string, size_t> index_;
};

// Amounts in thousandths by interned scalar index; entries past a vector's end are zero.
using Quantities = std::vector<int64_t>;

// The scalar parts of `resources`, summed over reservations and allocation roles.
Quantities quantitiesOf(const Resources& resources, ScalarNames& names);
void add(Quantities& into, const Quantities& q);
void subtract(Quantities& from, const Quantities& q);
bool isZero(const Quantities& q);

// max over scalar names of allocated / total. Names with no total are ignored, as in Mesos'
// DRF sorter, so a resource nobody has cannot dominate.
double dominantShare(const Quantities& allocated, const Quantities& total);

// Members (dense ids) ordered by ascending share, ties by name. `name` pointers must stay valid
// while the member is listed; names are unique within one order.
class ShareOrder {
 public:
  struct Entry {
    double share;
    const std::string* name;
    uint32_t id;
  };

  // Inserts `id`, or moves it to its place for the new share.
  void set(uint32_t id, const std::string* name, double share);
  void erase(uint32_t id);
  bool contains(uint32_t id) const { return keys_.count(id) != 0; }
  bool empty() const { return order_.empty(); }
  size_t size() const { return order_.size(); }

 private:
  struct Less {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.share != b.share) return a.share < b.share;
      return *a.name < *b.name;
    }
  };
  using Set = std::set<Entry, Less>;

 public:
  Set::const_iterator begin() const { return order_.begin(); }
  Set::const_iterator end() const { return order_.end(); }

 private:
  Set order_;
  // The key each member is filed under, to find it again when its share changes.
  std::unordered_map<uint32_t, Set::const_iterator> keys_;
};

}  // namespace dcos::kernel::drf
