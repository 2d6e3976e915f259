#include "common/event_loop.hpp"

#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace dcos;
using namespace std::chrono_literals;

TEST_CASE("timers fire in order of their delay and cancelled ones never fire") {
  EventLoop loop;
  std::vector<int> fired;
  loop.post([&] {
    loop.schedule(30ms, [&] { fired.push_back(3); loop.stop(); });
    loop.schedule(10ms, [&] { fired.push_back(1); });
    auto cancelled = loop.schedule(20ms, [&] { fired.push_back(2); });
    loop.cancel(cancelled);
  });
  loop.run();
  CHECK(fired == std::vector<int>{1, 3});
}

TEST_CASE("post is safe from other threads and blocking work reports back on the loop") {
  EventLoop loop;
  std::atomic<int> posted{0};
  std::thread::id loopThread;
  std::thread::id doneThread;
  std::thread::id workThread;
  loop.post([&] { loopThread = std::this_thread::get_id(); });
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) loop.post([&] { ++posted; });
  });
  producer.join();
  loop.runBlocking([&] { workThread = std::this_thread::get_id(); },
                   [&] {
                     doneThread = std::this_thread::get_id();
                     loop.stop();
                   });
  loop.run();
  CHECK(posted == 100);
  CHECK(doneThread == loopThread);
  CHECK(workThread != loopThread);
}

TEST_CASE("a timer cancelled after it expired but before it ran does not fire") {
  EventLoop loop;
  bool fired = false;
  loop.post([&] {
    auto id = loop.schedule(1ms, [&] { fired = true; });
    // Block the loop past the expiry so the handler is queued, then cancel it.
    std::this_thread::sleep_for(20ms);
    loop.cancel(id);
    loop.schedule(30ms, [&] { loop.stop(); });
  });
  loop.run();
  CHECK_FALSE(fired);
}
