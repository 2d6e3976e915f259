#include "common/uuid.hpp"

#include <cstdint>
#include <random>

namespace dcos::uuid {

std::string v4() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 15; i >= 0; --i) {
    out += kHex[(a >> (4 * i)) & 0xf];
    if (i == 8 || i == 4) out += '-';
  }
  out += '-';
  for (int i = 15; i >= 0; --i) {
    out += kHex[(b >> (4 * i)) & 0xf];
    if (i == 12) out += '-';
  }
  return out;
}

}  // namespace dcos::uuid
