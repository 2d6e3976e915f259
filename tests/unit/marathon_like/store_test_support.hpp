#pragma once
// What the app-store and marathon-store tests share: apps to store and version timestamps.
#include "marathon_like/app.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

namespace dcos::marathon::store_test {

inline AppDefinition makeApp(const std::string& id, const std::string& cmd = "sleep 100") {
  auto app = parseApp(Json{{"id", id}, {"cmd", cmd}});
  REQUIRE(app.ok());
  return *app;
}

// A version timestamp at second `second` (and `millis`) of a fixed minute.
inline std::string ts(int second, int millis = 0) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026-11-25T17:03:%02d.%03dZ", second, millis);
  return buf;
}

}  // namespace dcos::marathon::store_test
