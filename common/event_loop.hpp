#pragma once
// The process's event loop: one thread runs every component's state changes, so components need
// no locks; blocking work (fork/exec, big file I/O, fsync-heavy SQLite batches) goes to a small
// pool and posts its result back. Asio stays behind this header.

#include "common/clock.hpp"

#include <cstdint>
#include <functional>
#include <memory>

namespace dcos {

class EventLoop {
 public:
  using TimerId = uint64_t;

  explicit EventLoop(int blockingThreads = 2);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Queues fn to run on the loop thread. Safe from any thread, also before run().
  void post(std::function<void()> fn);

  // Runs fn on the loop thread after `delay`. Must be called on the loop thread (or before run).
  TimerId schedule(Duration delay, std::function<void()> fn);
  // Cancels a pending timer; a no-op when it already fired or was cancelled. Loop thread only.
  void cancel(TimerId id);

  // Runs `work` on the blocking pool, then `done` on the loop thread.
  void runBlocking(std::function<void()> work, std::function<void()> done = {});

  // Calls fn on the loop thread when the process gets SIGINT or SIGTERM (each time).
  void onTerminationSignal(std::function<void(int signal)> fn);

  // Runs until stop(); returns after all loop work has stopped. Call from one thread only.
  void run();
  // Asks run() to return. Safe from any thread.
  void stop();
  bool inLoopThread() const;

  // The asio::io_context behind the loop, for the few .cpp files that speak Asio (the HTTP server).
  void* nativeHandle();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcos
