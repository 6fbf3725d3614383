// FlowLog implementation: the sinks, the per-worker queues and the writer thread.
#include "proxy/telemetry/flow_log.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "proxy/core/json_escape.h"
#include "sandbox/process_sandbox.h"

namespace dpuguard::proxy {
namespace {

// A datagram socket connected to `path`, or -1 with `err`.
int datagramSocket(const std::string& path, std::string* err) {
  sockaddr_un sun{};
  if (path.empty() || path.size() >= sizeof sun.sun_path) {
    if (err) *err = "flow log socket path '" + path + "' is empty or too long";
    return -1;
  }
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0) return fd;
  if (err) *err = "cannot connect the flow log to " + path + ": " + std::strerror(errno);
  if (fd >= 0) close(fd);
  return -1;
}

}  // namespace

std::shared_ptr<FlowLogSink> FlowLogSink::open(const std::string& where, std::string* err) {
  auto sink = std::shared_ptr<FlowLogSink>(new FlowLogSink());
  if (where == "off") return sink;
  if (where == "stderr" || where == "stdout") {
    sink->fd_ = where == "stderr" ? STDERR_FILENO : STDOUT_FILENO;
    sink->kind_ = Kind::kStream;
    return sink;
  }
  if (where == "syslog" || where.rfind("unix:", 0) == 0) {
    sink->fd_ = datagramSocket(where == "syslog" ? "/dev/log" : where.substr(5), err);
    if (sink->fd_ < 0) return nullptr;
    sink->owned_ = true;
    sink->kind_ = where == "syslog" ? Kind::kSyslog : Kind::kDatagram;
    return sink;
  }
  // O_NONBLOCK: a FIFO nobody has opened yet fails here (ENXIO) instead of hanging start-up;
  // a FIFO whose reader stalls makes write() say EAGAIN, and the writer waits with poll().
  sink->fd_ = ::open(where.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0640);
  if (sink->fd_ < 0) {
    if (err) *err = "cannot open flow log " + where + ": " + std::strerror(errno);
    return nullptr;
  }
  sink->owned_ = true;
  sink->kind_ = Kind::kStream;
  return sink;
}

FlowLogSink::~FlowLogSink() {
  if (owned_ && fd_ >= 0) close(fd_);
}

bool FlowLogSink::waitWritable(const std::atomic<bool>& give_up) {
  pollfd p{fd_, POLLOUT, 0};
  while (!give_up.load(std::memory_order_relaxed)) {
    const int n = poll(&p, 1, 100);
    if (n > 0) return (p.revents & (POLLERR | POLLNVAL)) == 0;
    if (n < 0 && errno != EINTR) return false;
  }
  return false;
}

uint64_t FlowLogSink::write(std::string_view lines, const std::atomic<bool>& give_up) {
  auto count = [](std::string_view s) {
    uint64_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
  };
  if (fd_ < 0) return 0;  // off: nothing is lost, nothing was wanted
  if (kind_ == Kind::kStream) {
    size_t off = 0;
    while (off < lines.size()) {
      // stderr may be blocking (it is shared): write at most a pipe's atomic unit after
      // poll() said there is room, so a stalled reader costs this thread 100 ms a turn.
      if (!waitWritable(give_up)) return count(lines.substr(off));
      const size_t n = std::min<size_t>(lines.size() - off, 4096);
      const ssize_t w = ::write(fd_, lines.data() + off, n);
      if (w > 0) {
        off += static_cast<size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else if (w < 0 && errno == EAGAIN) {
        continue;  // waits in waitWritable
      } else {
        return count(lines.substr(off));
      }
    }
    return 0;
  }
  uint64_t lost = 0;
  size_t start = 0;
  while (start < lines.size()) {
    size_t end = lines.find('\n', start);
    if (end == std::string_view::npos) end = lines.size();
    std::string_view line = lines.substr(start, end - start);
    start = end + 1;
    if (kind_ == Kind::kSyslog) {  // RFC 3164: <PRI> with local0.info, then the tag
      scratch_.assign("<134>dpuguard[");
      scratch_.append(std::to_string(getpid())).append("]: ").append(line);
      line = scratch_;
    }
    while (true) {
      if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) >= 0) break;
      if (errno == EINTR || (errno == EAGAIN && waitWritable(give_up))) continue;
      ++lost;  // the receiver is gone or will not take it: this line is lost
      break;
    }
  }
  return lost;
}

FlowLogQueue::Push FlowLogQueue::push(const std::shared_ptr<FlowLogSink>& sink,
                                      std::string_view text, uint64_t lines, size_t capacity) {
  (void)lines;
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!pending_.empty() && sink_ != sink) return Push::kBusy;
    if (pending_.size() + text.size() > capacity) return Push::kDropped;
    was_empty = pending_.empty();
    if (sink_ != sink) sink_ = sink;
    pending_.append(text);
  }
  if (was_empty && wake_ != nullptr) wake_->notify_one();
  return Push::kQueued;
}

std::shared_ptr<FlowLogSink> FlowLogQueue::take(std::string& out) {
  out.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  if (pending_.empty()) return nullptr;
  pending_.swap(out);  // both keep their capacity: no allocation once warm
  return sink_;
}

FlowLogWriter::~FlowLogWriter() {
  stop(0);
}

FlowLogQueue* FlowLogWriter::addQueue() {
  queues_.push_back(std::make_unique<FlowLogQueue>());
  queues_.back()->wake_ = &wake_;
  return queues_.back().get();
}

void FlowLogWriter::start() {
  thread_ = std::thread([this] {
    sandbox::enterRole(sandbox::Role::kTelemetry);
    run();
  });
}

void FlowLogWriter::stop(int64_t grace_ms) {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  wake_.notify_one();
  // A reader that does not read keeps the writer waiting; after the grace its lines go.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  std::thread timer([this, deadline] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!give_up_.load() && std::chrono::steady_clock::now() < deadline) {
      wake_.wait_until(lock, deadline);
    }
    give_up_.store(true);
  });
  thread_.join();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    give_up_.store(true);
  }
  wake_.notify_all();
  timer.join();
}

bool FlowLogWriter::drainOnce(std::string& batch) {
  bool wrote = false;
  for (auto& q : queues_) {
    const std::shared_ptr<FlowLogSink> sink = q->take(batch);
    if (sink == nullptr) continue;
    wrote = true;
    lost_.fetch_add(sink->write(batch, give_up_), std::memory_order_relaxed);
  }
  return wrote;
}

void FlowLogWriter::run() {
  std::string batch;
  while (true) {
    if (drainOnce(batch)) continue;
    if (stopping_.load()) {
      while (drainOnce(batch)) {
      }
      return;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

namespace {

void field(std::string& out, const char* name, std::string_view value) {
  out.append(",\"");
  out.append(name);
  out.append("\":\"");
  appendJsonEscaped(out, value);
  out.push_back('"');
}

void field(std::string& out, const char* name, int64_t value) {
  out.append(",\"");
  out.append(name);
  out.append("\":");
  out.append(std::to_string(value));
}

}  // namespace

void FlowLog::append(const FlowRecord& r) {
  if (!sink_ || sink_->fd() < 0) return;
  ++lines_;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char when[64];
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                ts.tv_nsec / 1000000);
  buffer_.append("{\"time\":\"");
  buffer_.append(when);
  buffer_.push_back('"');
  if (!r.measurement.empty()) field(buffer_, "measurement", r.measurement);
  field(buffer_, "listener", r.listener);
  field(buffer_, "client", r.client);
  field(buffer_, "method", r.method);
  field(buffer_, "path", r.path);
  field(buffer_, "route", r.route);
  field(buffer_, "cluster", r.cluster);
  field(buffer_, "endpoint", r.endpoint);
  field(buffer_, "status", r.status);
  field(buffer_, "bytes_in", static_cast<int64_t>(r.bytes_in));
  field(buffer_, "bytes_out", static_cast<int64_t>(r.bytes_out));
  field(buffer_, "upstream_us", r.upstream_us);
  field(buffer_, "total_us", r.total_us);
  field(buffer_, "reason", r.reason);
  if (!r.parse_error.empty()) field(buffer_, "parse_error", r.parse_error);
  if (!r.upstream_tls_error.empty()) field(buffer_, "upstream_tls_error", r.upstream_tls_error);
  if (!r.upstream_tls_verify.empty()) field(buffer_, "upstream_tls_verify", r.upstream_tls_verify);
  if (!r.identity.empty()) field(buffer_, "identity", r.identity);
  if (!r.identity_source.empty()) field(buffer_, "identity_source", r.identity_source);
  if (!r.rule.empty()) field(buffer_, "rule", r.rule);
  if (!r.verdict.empty()) field(buffer_, "verdict", r.verdict);
  if (!r.dpi.empty()) field(buffer_, "dpi", r.dpi);
  if (!r.model.empty()) field(buffer_, "model", r.model);
  if (r.prompt_tokens >= 0) field(buffer_, "prompt_tokens", r.prompt_tokens);
  if (r.completion_tokens >= 0) field(buffer_, "completion_tokens", r.completion_tokens);
  if (!r.attempts.empty()) buffer_.append(",\"attempts\":").append(r.attempts);
  if (!r.tls_protocol.empty()) {
    field(buffer_, "tls_protocol", r.tls_protocol);
    field(buffer_, "tls_cipher", r.tls_cipher);
    if (!r.tls_sni.empty()) field(buffer_, "tls_sni", r.tls_sni);
    buffer_.append(r.tls_resumed ? ",\"tls_resumed\":true" : ",\"tls_resumed\":false");
    if (r.tls_ktls) buffer_.append(",\"tls_ktls\":true");
  }
  buffer_.append("}\n");
  if (buffer_.size() > (1u << 20)) flush();
}

void FlowLog::flush() {
  if (buffer_.empty() || !sink_ || sink_->fd() < 0) {
    buffer_.clear();
    lines_ = 0;
    return;
  }
  if (queue_ == nullptr) {  // in-process drivers: write now
    static const std::atomic<bool> kWait{false};
    sink_->write(buffer_, kWait);
  } else {
    switch (queue_->push(sink_, buffer_, lines_, capacity_)) {
      case FlowLogQueue::Push::kQueued:
        break;
      case FlowLogQueue::Push::kDropped:
        if (dropped_ != nullptr) bump(*dropped_, lines_);
        break;
      case FlowLogQueue::Push::kBusy:
        // Lines for the previous sink wait (a reload): keep these for the next turn, up to
        // the queue's size.
        if (buffer_.size() <= capacity_) return;
        if (dropped_ != nullptr) bump(*dropped_, lines_);
        break;
    }
  }
  buffer_.clear();
  lines_ = 0;
}

}  // namespace dpuguard::proxy
