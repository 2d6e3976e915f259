#include "kernel/allocator/drf.hpp"

#include <algorithm>

namespace dcos::kernel::drf {

size_t ScalarNames::indexOf(const std::string& name) {
  auto [it, inserted] = index_.try_emplace(name, index_.size());
  return it->second;
}

Quantities quantitiesOf(const Resources& resources, ScalarNames& names) {
  Quantities q;
  for (const auto& r : resources.items()) {
    if (r.type != ValueType::kScalar) continue;
    size_t i = names.indexOf(r.name);
    if (q.size() <= i) q.resize(i + 1, 0);
    q[i] += r.scalar.millis();
  }
  return q;
}

void add(Quantities& into, const Quantities& q) {
  if (into.size() < q.size()) into.resize(q.size(), 0);
  for (size_t i = 0; i < q.size(); ++i) into[i] += q[i];
}

void subtract(Quantities& from, const Quantities& q) {
  if (from.size() < q.size()) from.resize(q.size(), 0);
  // Clamped at zero: bookkeeping must never produce a negative share, even if a caller
  // returns more than it was given.
  for (size_t i = 0; i < q.size(); ++i) from[i] = std::max<int64_t>(0, from[i] - q[i]);
}

bool isZero(const Quantities& q) {
  return std::all_of(q.begin(), q.end(), [](int64_t v) { return v == 0; });
}

double dominantShare(const Quantities& allocated, const Quantities& total) {
  double share = 0;
  size_t n = std::min(allocated.size(), total.size());
  for (size_t i = 0; i < n; ++i) {
    if (total[i] <= 0 || allocated[i] <= 0) continue;
    share = std::max(share, static_cast<double>(allocated[i]) / static_cast<double>(total[i]));
  }
  return share;
}

void ShareOrder::set(uint32_t id, const std::string* name, double share) {
  auto it = keys_.find(id);
  if (it != keys_.end()) {
    if (it->second->share == share) return;
    order_.erase(it->second);
    it->second = order_.insert({share, name, id}).first;
    return;
  }
  keys_.emplace(id, order_.insert({share, name, id}).first);
}

void ShareOrder::erase(uint32_t id) {
  auto it = keys_.find(id);
  if (it == keys_.end()) return;
  order_.erase(it->second);
  keys_.erase(it);
}

}  // namespace dcos::kernel::drf
