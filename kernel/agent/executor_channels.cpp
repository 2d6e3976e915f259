#include "common/log.hpp"
#include "kernel/agent/executor_support.hpp"
#include "kernel/executor/channel.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("agent"); }

}  // namespace

// Shared by the channels object, its I/O thread and what they post to the loop.
struct ExecutorChannels::State {
  State(EventLoop& l, Handlers h) : loop(l), handlers(std::move(h)) {}
  EventLoop& loop;
  const Handlers handlers;
  int epollFd = ::epoll_create1(EPOLL_CLOEXEC);
  int wakeFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::mutex mu;  // guards everything below
  bool closed = false;
  struct Channel {
    std::string id;
    LineReader reader;
  };
  std::map<int, Channel> byFd;
  std::map<std::string, int> byId;

  ~State() {
    ::close(epollFd);
    ::close(wakeFd);
  }

  // Removes a channel; mu held.
  void drop(int fd) {
    ::epoll_ctl(epollFd, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    auto it = byFd.find(fd);
    if (it == byFd.end()) return;
    byId.erase(it->second.id);
    byFd.erase(it);
  }

  void post(std::function<void(const Handlers&)> fn, const std::shared_ptr<State>& self) {
    loop.post([self, fn = std::move(fn)] {
      {
        std::lock_guard lock(self->mu);
        if (self->closed) return;
      }
      fn(self->handlers);
    });
  }

  void readable(int fd, const std::shared_ptr<State>& self) {
    char buf[8192];
    ssize_t n;
    do {
      n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    std::lock_guard lock(mu);
    auto it = byFd.find(fd);
    if (it == byFd.end()) return;
    std::string id = it->second.id;
    Result<std::vector<Json>> messages = std::vector<Json>{};
    if (n > 0) messages = it->second.reader.feed(buf, static_cast<size_t>(n));
    if (!messages) logger().warn("closing the channel of container '{}': {}", id, messages.error().message);
    if (messages && !messages->empty()) {
      post([id, m = std::move(*messages)](const Handlers& h) { h.onMessages(id, m); }, self);
    }
    if (n <= 0 || !messages) {
      drop(fd);
      post([id](const Handlers& h) { h.onClosed(id); }, self);
    }
  }

  static void run(const std::shared_ptr<State>& self) {
    epoll_event events[64];
    for (;;) {
      int n = ::epoll_wait(self->epollFd, events, 64, -1);
      if (n < 0 && errno != EINTR) return;
      for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == self->wakeFd) return;
        self->readable(events[i].data.fd, self);
      }
    }
  }
};

ExecutorChannels::ExecutorChannels(EventLoop& loop, Handlers handlers)
    : state_(std::make_shared<State>(loop, std::move(handlers))) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = state_->wakeFd;
  ::epoll_ctl(state_->epollFd, EPOLL_CTL_ADD, state_->wakeFd, &ev);
  thread_ = std::thread([state = state_] { State::run(state); });
}

ExecutorChannels::~ExecutorChannels() { close(); }

void ExecutorChannels::add(const std::string& id, int fd) {
  std::lock_guard lock(state_->mu);
  if (state_->closed) {
    ::close(fd);
    return;
  }
  if (auto old = state_->byId.find(id); old != state_->byId.end()) state_->drop(old->second);
  state_->byFd[fd] = {id, LineReader()};
  state_->byId[id] = fd;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = fd;
  ::epoll_ctl(state_->epollFd, EPOLL_CTL_ADD, fd, &ev);
}

void ExecutorChannels::send(const std::string& id, const Json& message) {
  std::lock_guard lock(state_->mu);
  auto it = state_->byId.find(id);
  if (it != state_->byId.end()) writeLine(it->second, message);  // a failed write ends in EOF
}

void ExecutorChannels::close() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->closed) return;
    state_->closed = true;
  }
  ::eventfd_write(state_->wakeFd, 1);
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(state_->mu);
  while (!state_->byFd.empty()) state_->drop(state_->byFd.begin()->first);
}

}  // namespace dcos::kernel
