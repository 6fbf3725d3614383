// AdminServer implementation: poll(2) on the listener and a stop eventfd; each connection is
// read with a 1 s timeout per read and kHeadDeadline for the whole head (one slow client must
// not hold the admin thread), parsed with the same strict MessageParser, answered and closed.
#include "proxy/admin/admin_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "parsers/http1/message_parser.h"
#include "parsers/http1/reason_phrase.h"
#include "proxy/core/socket_ops.h"

namespace dpuguard::proxy {
namespace {

constexpr std::chrono::milliseconds kHeadDeadline{2000};

void sendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

std::string response(int status, std::string_view type, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(http1::reasonPhrase(status)) +
         "\r\nContent-Type: " + std::string(type) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

}  // namespace

AdminServer::AdminServer(SocketAddress address, AdminHandlers handlers)
    : address_(std::move(address)), handlers_(std::move(handlers)) {}

AdminServer::~AdminServer() {
  stop();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

bool AdminServer::start(std::string* err) {
  listen_fd_ = listenSocket(address_, false, err);
  if (listen_fd_ < 0) return false;
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { run(); });
  return true;
}

void AdminServer::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof one);
  thread_.join();
}

void AdminServer::run() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    const int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    timeval tv{1, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    serve(c);
    close(c);
  }
}

void AdminServer::serve(int fd) {
  http1::Limits limits;
  limits.max_header_bytes = 8192;
  limits.max_uri_bytes = 1024;
  http1::MessageParser parser(http1::MessageParser::Kind::kRequest, limits);
  http1::NullBodySink sink;
  char buf[8192];
  size_t used = 0;  // buf is never reused or moved: the head's views stay valid
  const auto deadline = std::chrono::steady_clock::now() + kHeadDeadline;
  while (used < sizeof buf) {
    if (std::chrono::steady_clock::now() > deadline) {
      sendAll(fd, response(408, "text/plain", "request head not received in time\n"));
      return;
    }
    const ssize_t n = read(fd, buf + used, sizeof buf - used);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;  // the 1 s read timeout: check the deadline
    if (n <= 0) return;
    const http1::ParseResult r =
        parser.feed(std::string_view(buf + used, static_cast<size_t>(n)), sink);
    used += static_cast<size_t>(n);
    if (r.status == http1::ParseStatus::kError) {
      sendAll(fd, response(http1::statusFor(r.error), "text/plain",
                           std::string(http1::parseErrorName(r.error)) + "\n"));
      return;
    }
    if (r.status != http1::ParseStatus::kHeadComplete) continue;
    const http1::MessageHead& h = parser.head();
    const std::string_view path = h.target.substr(0, h.target.find('?'));
    if (h.method != "GET" && h.method != "HEAD") {
      sendAll(fd, response(405, "text/plain", "only GET\n"));
    } else if (path == "/metrics") {
      sendAll(fd, response(200, "text/plain; version=0.0.4", handlers_.metrics()));
    } else if (path == "/healthz") {
      const bool ok = handlers_.healthy();
      sendAll(fd, response(ok ? 200 : 503, "text/plain", ok ? "ok\n" : "draining\n"));
    } else if (path == "/config") {
      sendAll(fd, response(200, "application/json", handlers_.config()));
    } else if (path == "/edges") {
      sendAll(fd, response(200, "application/json", handlers_.edges()));
    } else {
      sendAll(fd, response(404, "text/plain", "try /metrics, /healthz, /config or /edges\n"));
    }
    return;
  }
}

}  // namespace dpuguard::proxy
