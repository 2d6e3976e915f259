#pragma once
// Random (version 4) UUIDs in their canonical text form, for ids the cluster hands out.

#include <string>

namespace dcos::uuid {

// "6e2b1c3a-9f4d-4c1e-8a2b-0d3f5e6a7b8c": 122 random bits, RFC 4122 version 4, variant 10.
std::string v4();

}  // namespace dcos::uuid
