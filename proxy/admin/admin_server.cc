// AdminServer implementation: one EventLoop on the admin thread; each Connection reads its
// head into a fixed buffer (never moved, so the parser's views stay valid) with the same
// strict MessageParser as the data path, answers, and closes once the reply is written.
#include "proxy/admin/admin_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "parsers/http1/message_parser.h"
#include "parsers/http1/reason_phrase.h"
#include "proxy/core/socket_ops.h"
#include "sandbox/process_sandbox.h"

namespace dpuguard::proxy {

std::string adminResponse(int status, std::string_view type, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(http1::reasonPhrase(status)) +
         "\r\nContent-Type: " + std::string(type) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

// One admin client: reading its head (deadline from accept), then writing the reply.
class AdminServer::Connection final : public IoHandler, public Timer {
 public:
  Connection(AdminServer& server, int fd)
      : server_(server), fd_(fd), parser_(http1::MessageParser::Kind::kRequest, limits()) {}
  ~Connection() override {
    if (fd_ >= 0) ::close(fd_);
  }

  void start(std::list<std::unique_ptr<Connection>>::iterator self) {
    self_ = self;
    server_.loop_.add(fd_, EPOLLIN | EPOLLRDHUP, this);
    server_.loop_.timers().schedule(this, server_.loop_.now() + kHeadDeadlineMs);
  }
  bool replying() const { return replying_; }
  std::list<std::unique_ptr<Connection>>::iterator self() const { return self_; }

  void onIo(uint32_t events) override {
    if (replying_) {
      if (events & (EPOLLERR | EPOLLHUP)) return close();
      return write();
    }
    read();
  }
  void onTimer() override {
    if (!replying_) {  // the head did not come in time
      reply(adminResponse(408, "text/plain", "request head not received in time\n"));
      return;
    }
    close();  // the reply could not be written in time
  }
  void close() {
    if (fd_ < 0) return;
    server_.loop_.remove(fd_);
    server_.loop_.timers().cancel(this);
    ::close(fd_);
    fd_ = -1;
    server_.retire(this);
  }

 private:
  static http1::Limits limits() {
    http1::Limits l;
    l.max_header_bytes = kMaxHeadBytes;
    l.max_uri_bytes = 1024;
    return l;
  }

  void read() {
    while (used_ < sizeof buf_) {
      const ssize_t n = ::read(fd_, buf_ + used_, sizeof buf_ - used_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) return close();
      http1::NullBodySink sink;
      const http1::ParseResult r =
          parser_.feed(std::string_view(buf_ + used_, static_cast<size_t>(n)), sink);
      used_ += static_cast<size_t>(n);
      if (r.status == http1::ParseStatus::kError) {
        return reply(adminResponse(http1::statusFor(r.error), "text/plain",
                                   std::string(http1::parseErrorName(r.error)) + "\n"));
      }
      if (r.status == http1::ParseStatus::kHeadComplete ||
          r.status == http1::ParseStatus::kMessageComplete) {
        const http1::MessageHead& h = parser_.head();
        return reply(server_.answer(h.method, h.target));
      }
    }
    reply(adminResponse(431, "text/plain", "head_too_large\n"));
  }

  void reply(std::string text) {
    replying_ = true;
    out_ = std::move(text);
    server_.loop_.timers().schedule(this, server_.loop_.now() + kWriteDeadlineMs);
    server_.loop_.modify(fd_, EPOLLOUT, this);
    write();
  }

  void write() {
    while (sent_ < out_.size()) {
      const ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) return close();
      sent_ += static_cast<size_t>(n);
    }
    // Whatever else the client sent is not read: shut our side first, so the reply is not
    // lost to a reset when we close with its bytes unread.
    ::shutdown(fd_, SHUT_WR);
    close();
  }

  AdminServer& server_;
  int fd_;
  std::list<std::unique_ptr<Connection>>::iterator self_;
  http1::MessageParser parser_;
  char buf_[kMaxHeadBytes];
  size_t used_ = 0;
  bool replying_ = false;
  std::string out_;
  size_t sent_ = 0;
};

AdminServer::AdminServer(SocketAddress address, AdminHandlers handlers)
    : address_(std::move(address)), handlers_(std::move(handlers)) {}

AdminServer::~AdminServer() {
  stop();
  loop_.timers().cancel(this);
  connections_.clear();
  dead_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool AdminServer::start(std::string* err) {
  if (!listen(err)) return false;
  startThread();
  return true;
}

bool AdminServer::listen(std::string* err) {
  listen_fd_ = listenSocket(address_, false, err);
  if (listen_fd_ < 0) return false;
  listening_ = loop_.add(listen_fd_, EPOLLIN, this);
  return true;
}

void AdminServer::startThread() {
  thread_ = std::thread([this] {
    sandbox::enterRole(sandbox::Role::kAdmin);
    loop_.run([this] {
      dead_.clear();
      if (stop_requested_.load()) loop_.stop();
    });
  });
}

void AdminServer::stop() {
  if (!thread_.joinable()) return;
  stop_requested_.store(true);
  loop_.wake();
  thread_.join();
}

int AdminServer::port() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
  return SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len).port();
}

void AdminServer::onIo(uint32_t) {
  accept();
}

void AdminServer::accept() {
  for (int i = 0; i < 64; ++i) {
    const int c = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered: rest instead of spinning on a connection we cannot take.
        loop_.remove(listen_fd_);
        listening_ = false;
        loop_.timers().schedule(this, loop_.now() + kAcceptBackoffMs);
      }
      return;
    }
    if (connections_.size() >= kMaxConnections) {
      // Full: the oldest client still sending its head goes (a flood of idle connections
      // cannot lock out a probe); if all are being answered, the new one does.
      auto oldest = connections_.begin();
      while (oldest != connections_.end() && (*oldest)->replying()) ++oldest;
      if (oldest == connections_.end()) {
        ::close(c);
        continue;
      }
      (*oldest)->close();
    }
    connections_.push_back(std::make_unique<Connection>(*this, c));
    connections_.back()->start(std::prev(connections_.end()));
  }
}

void AdminServer::onTimer() {
  if (!listening_) listening_ = loop_.add(listen_fd_, EPOLLIN, this);
}

void AdminServer::retire(Connection* c) {
  // Freed after this loop iteration, never under its own call.
  dead_.push_back(std::move(*c->self()));
  connections_.erase(c->self());
}

std::string AdminServer::answer(std::string_view method, std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD") return adminResponse(405, "text/plain", "only GET\n");
  if (path == "/metrics")
    return adminResponse(200, "text/plain; version=0.0.4", handlers_.metrics());
  if (path == "/healthz") {
    const std::string why = handlers_.unhealthy ? handlers_.unhealthy() : "";
    return why.empty() ? adminResponse(200, "text/plain", "ok\n")
                       : adminResponse(503, "text/plain", why + "\n");
  }
  if (path == "/config") return adminResponse(200, "application/json", handlers_.config());
  if (path == "/edges") return adminResponse(200, "application/json", handlers_.edges());
  if (path == "/clusters" && handlers_.clusters)
    return adminResponse(200, "application/json", handlers_.clusters());
  if (path == "/measurement" && handlers_.measurement)
    return adminResponse(200, "application/json", handlers_.measurement());
  if (path == "/attestation" && handlers_.attestation) {
    const size_t q = target.find('?');
    const AdminReply r =
        handlers_.attestation(q == std::string_view::npos ? "" : target.substr(q + 1));
    return adminResponse(r.status, r.status == 200 ? "application/json" : "text/plain", r.body);
  }
  return adminResponse(404, "text/plain",
                       "try /metrics, /healthz, /config, /edges, /clusters, /measurement or "
                       "/attestation?nonce=HEX\n");
}

}  // namespace dpuguard::proxy
