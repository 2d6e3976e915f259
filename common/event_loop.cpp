#include "common/event_loop.hpp"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <csignal>
#include <thread>
#include <unordered_map>

namespace dcos {
namespace asio = boost::asio;

struct EventLoop::Impl {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  asio::thread_pool pool;
  std::unordered_map<TimerId, std::unique_ptr<asio::steady_timer>> timers;
  TimerId nextTimer = 1;
  std::unique_ptr<asio::signal_set> signals;
  std::function<void(int)> onSignal;
  std::thread::id loopThread;

  explicit Impl(int threads) : pool(static_cast<size_t>(threads > 0 ? threads : 1)) {}

  void waitSignal() {
    signals->async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (onSignal) onSignal(sig);
      waitSignal();
    });
  }
};

EventLoop::EventLoop(int blockingThreads) : impl_(std::make_unique<Impl>(blockingThreads)) {}

EventLoop::~EventLoop() {
  impl_->pool.join();
}

void EventLoop::post(std::function<void()> fn) { asio::post(impl_->io, std::move(fn)); }

EventLoop::TimerId EventLoop::schedule(Duration delay, std::function<void()> fn) {
  TimerId id = impl_->nextTimer++;
  auto timer = std::make_unique<asio::steady_timer>(impl_->io);
  timer->expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(delay));
  timer->async_wait([this, id, fn = std::move(fn)](const boost::system::error_code&) {
    // A timer that expired just before cancel() still has its handler queued with success, so
    // the map, not the error code, says whether it is still wanted.
    auto it = impl_->timers.find(id);
    if (it == impl_->timers.end()) return;
    impl_->timers.erase(it);
    fn();
  });
  impl_->timers.emplace(id, std::move(timer));
  return id;
}

void EventLoop::cancel(TimerId id) {
  // Destroying the timer cancels its wait; the handler then finds no entry and does nothing.
  impl_->timers.erase(id);
}

void EventLoop::runBlocking(std::function<void()> work, std::function<void()> done) {
  asio::post(impl_->pool, [this, work = std::move(work), done = std::move(done)]() mutable {
    work();
    if (done) post(std::move(done));
  });
}

void EventLoop::onTerminationSignal(std::function<void(int)> fn) {
  impl_->onSignal = std::move(fn);
  if (!impl_->signals) {
    impl_->signals = std::make_unique<asio::signal_set>(impl_->io, SIGINT, SIGTERM);
    impl_->waitSignal();
  }
}

void EventLoop::run() {
  impl_->loopThread = std::this_thread::get_id();
  impl_->io.run();
}

void EventLoop::stop() {
  impl_->work.reset();
  impl_->io.stop();
}

bool EventLoop::inLoopThread() const { return impl_->loopThread == std::this_thread::get_id(); }

void* EventLoop::nativeHandle() { return &impl_->io; }

}  // namespace dcos
