#include "kernel/daemon.hpp"

#include "common/log.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>
#include <unistd.h>

namespace dcos::kernel {
namespace fs = std::filesystem;

void addDaemonFlags(flags::FlagSet& f, int defaultPort, const std::string& defaultWorkDir) {
  using flags::Type;
  f.add({.name = "address", .defaultValue = "0.0.0.0", .help = "IP address to listen on"});
  f.add({.name = "port", .type = Type::kInt, .defaultValue = std::to_string(defaultPort),
         .help = "HTTP port to listen on (0 picks a free one)", .min = 0, .max = 65535});
  f.add({.name = "work_dir", .defaultValue = defaultWorkDir,
         .help = "Directory for state (SQLite database, checkpoints)", .required = defaultWorkDir.empty()});
  f.add({.name = "log_level", .defaultValue = "info", .help = "Least severe log level to print",
         .choices = {"trace", "debug", "info", "warn", "error", "off"}});
  f.add({.name = "log_json", .type = Type::kBool, .defaultValue = "false",
         .help = "Print each log line as a JSON object"});
  f.add({.name = "http_max_body_bytes", .type = Type::kInt, .defaultValue = "8388608",
         .help = "Largest request body accepted; larger ones get 413", .min = 1, .max = 1LL << 32});
  f.add({.name = "http_header_timeout", .type = Type::kDuration, .defaultValue = "10secs",
         .help = "Time a client has to send a complete request head"});
  f.add({.name = "http_idle_timeout", .type = Type::kDuration, .defaultValue = "75secs",
         .help = "Time a kept-alive connection may stay idle"});
  f.add({.name = "config", .defaultValue = "", .help = "File with more flags (name = value lines, or JSON)"});
}

Result<void> prepareWorkDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot create work_dir '" + dir + "': " + ec.message());
  if (!fs::is_directory(dir, ec)) return Error(ErrorCode::kIo, "work_dir '" + dir + "' is not a directory");
  std::string probe = (fs::path(dir) / ".write-probe").string();
  FILE* f = std::fopen(probe.c_str(), "w");
  if (!f || std::fputs("ok\n", f) < 0 || std::fflush(f) != 0 || ::fsync(fileno(f)) != 0) {
    std::string why = std::strerror(errno);
    if (f) std::fclose(f);
    return Error(ErrorCode::kIo, "work_dir '" + dir + "' is not writable: " + why);
  }
  std::fclose(f);
  fs::remove(probe, ec);
  return success();
}

int runDaemon(const char* mode, const flags::FlagSet& flags,
              const std::function<Result<void>(DaemonContext&)>& setup,
              const std::function<void(uint16_t)>& onListening) {
  log::Level level = log::Level::kInfo;
  log::parseLevel(flags.getString("log_level"), &level);
  log::configure(level, flags.getBool("log_json"));
  const auto& logger = log::get(mode);

  auto fail = [&](const Error& e) {
    std::cerr << "dcos " << mode << ": " << e.message << std::endl;
    return 1;
  };

  std::error_code ec;
  std::string workDir = fs::absolute(flags.getString("work_dir"), ec).lexically_normal().string();
  if (workDir.size() > 1 && workDir.back() == '/') workDir.pop_back();
  if (auto r = prepareWorkDir(workDir); !r) return fail(r.error());

  EventLoop loop;
  http::Router router;
  DaemonContext ctx{loop, router, flags, workDir, {}};
  if (auto r = setup(ctx); !r) return fail(r.error());

  http::ServerOptions options;
  options.address = flags.getString("address");
  options.port = static_cast<uint16_t>(flags.getInt("port"));
  options.bodyLimit = static_cast<size_t>(flags.getInt("http_max_body_bytes"));
  options.headerTimeout = flags.getDuration("http_header_timeout");
  options.idleTimeout = flags.getDuration("http_idle_timeout");
  http::Server server(loop, router, options);
  // Handled from here on (before "listening" is logged and anyone can know the port), so a
  // SIGTERM that follows the log line always gets the clean shutdown.
  bool stopping = false;
  loop.onTerminationSignal([&](int sig) {
    if (stopping) {
      logger.warn("second signal {}; exiting now", sig);
      loop.stop();
      return;
    }
    stopping = true;
    logger.info("signal {} received; shutting down", sig);
    for (const auto& fn : ctx.onStopping) fn();
    server.shutdown([&] { loop.stop(); });
  });
  auto port = server.listen();
  if (!port) return fail(port.error());

  bool everywhere = options.address == "0.0.0.0";
  std::string host = everywhere ? "127.0.0.1" : options.address;
  logger.info("listening on http://{}:{}{} (work_dir '{}')", host, *port, everywhere ? " and every other address" : "",
              workDir);
  if (onListening) onListening(*port);

  loop.run();
  for (const auto& fn : ctx.onStopped) fn();
  logger.info("stopped");
  return 0;
}

}  // namespace dcos::kernel
