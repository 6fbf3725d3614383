// tls_handshakes: a load client for bench/load/run's TLS handshake workloads. Each of
// --connections slots loops: TCP connect, TLS 1.3 handshake (full, or resumed with the ticket
// the slot's previous connection received), one keep-alive GET, the whole response read, then
// close_notify and FIN, the server's close awaited. Non-blocking, one thread, epoll.
//
//   tls_handshakes --port P [--mode full|resume] [--connections 8] [--seconds 5]
//                  [--path /small] [--host bench] [--sni bench.test]
//
// Before the timed part it makes one connection per slot (resume: the first tickets), prints
// "ready" and waits for a line on stdin, so the caller can read the server's CPU time at the
// start of the timed part. Then it prints one JSON object: completed connections, how many
// the server really resumed (SSL_session_reused), tickets received, errors, the negotiated
// protocol/suite/group, and latency (connect to last response byte) percentiles.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0;
  bool resume = false;
  int connections = 8;
  double seconds = 5;
  std::string path = "/small";
  std::string host = "bench";
  std::string sni = "bench.test";
};

struct Totals {
  uint64_t completed = 0;
  uint64_t resumed = 0;
  uint64_t tickets = 0;
  uint64_t errors = 0;
  std::vector<double> latency_ms;
  std::string protocol, suite, group;
};

enum class Phase { kConnecting, kHandshake, kWriting, kReading, kDraining };

struct Slot {
  int fd = -1;
  SSL* ssl = nullptr;
  SSL_SESSION* session = nullptr;  // the newest ticket, for the next connection
  Phase phase = Phase::kConnecting;
  Clock::time_point started;
  std::string response;
  size_t written = 0;
};

int slotIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

Totals* g_totals = nullptr;

// TLS 1.3 tickets arrive after the handshake, while the response is read.
int onNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<Slot*>(SSL_get_ex_data(ssl, slotIndex()));
  ++g_totals->tickets;
  if (slot->session != nullptr) SSL_SESSION_free(slot->session);
  slot->session = session;
  return 1;  // we keep the reference
}

// Bytes of one complete response (head + Content-Length body) at the front, or 0.
size_t responseLength(std::string_view data) {
  const size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  size_t body = 0;
  for (size_t at = data.find("\r\n"); at < end; at = data.find("\r\n", at + 2)) {
    const std::string_view line = data.substr(at + 2, 15);
    if (line.size() == 15 && strncasecmp(line.data(), "content-length:", 15) == 0)
      body = std::strtoul(data.data() + at + 17, nullptr, 10);
  }
  return data.size() >= end + 4 + body ? end + 4 + body : 0;
}

class Client {
 public:
  Client(const Options& o, SSL_CTX* ctx) : o_(o), ctx_(ctx), slots_(o.connections) {
    epoll_ = epoll_create1(0);
    request_ =
        "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + "\r\nUser-Agent: tls_handshakes\r\n\r\n";
  }

  // Runs until `deadline`, then lets the connections under way finish (2 s at most).
  void run(Totals& t, Clock::time_point deadline, bool record) {
    totals_ = &t;
    record_ = record;
    for (Slot& s : slots_) start(s);
    epoll_event events[64];
    for (;;) {
      const int n = epoll_wait(epoll_, events, 64, 50);
      for (int i = 0; i < n; ++i) step(*static_cast<Slot*>(events[i].data.ptr));
      const Clock::time_point now = Clock::now();
      const bool more = now < deadline;
      const bool stop = now >= deadline + std::chrono::seconds(2);
      bool any = false;
      for (Slot& s : slots_) {
        if (s.fd >= 0 && (stop || now - s.started > std::chrono::seconds(5))) fail(s);
        if (s.fd < 0 && more) start(s);
        any = any || s.fd >= 0;
      }
      if (!any) return;
    }
  }

 private:
  void start(Slot& s) {
    s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    const int one = 1;
    setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(o_.port));
    s.started = Clock::now();
    s.response.clear();
    s.written = 0;
    s.phase = Phase::kConnecting;
    if (connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
      fail(s);
      return;
    }
    epoll_event e{EPOLLOUT, {.ptr = &s}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, s.fd, &e);
  }

  void want(Slot& s, uint32_t events) {
    epoll_event e{events, {.ptr = &s}};
    epoll_ctl(epoll_, EPOLL_CTL_MOD, s.fd, &e);
  }

  // After an SSL call returned `ret`: wait for what it wants (true) or fail.
  bool waitFor(Slot& s, int ret) {
    const int err = SSL_get_error(s.ssl, ret);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      want(s, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
      return true;
    }
    fail(s);
    return false;
  }

  void step(Slot& s) {
    if (s.phase == Phase::kConnecting) {
      int err = 0;
      socklen_t len = sizeof err;
      if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return fail(s);
      s.ssl = SSL_new(ctx_);
      SSL_set_fd(s.ssl, s.fd);
      SSL_set_ex_data(s.ssl, slotIndex(), &s);
      SSL_set_tlsext_host_name(s.ssl, o_.sni.c_str());
      if (o_.resume && s.session != nullptr) SSL_set_session(s.ssl, s.session);
      s.phase = Phase::kHandshake;
    }
    if (s.phase == Phase::kHandshake) {
      ERR_clear_error();
      const int ret = SSL_connect(s.ssl);
      if (ret != 1) {
        waitFor(s, ret);
        return;
      }
      s.phase = Phase::kWriting;
    }
    if (s.phase == Phase::kWriting) {
      size_t n = 0;
      if (SSL_write_ex(s.ssl, request_.data() + s.written, request_.size() - s.written, &n) != 1) {
        waitFor(s, 0);
        return;
      }
      s.written += n;
      if (s.written < request_.size()) return want(s, EPOLLOUT);
      s.phase = Phase::kReading;
      want(s, EPOLLIN);
    }
    if (s.phase == Phase::kReading) {
      char buf[16384];
      size_t n = 0;
      while (SSL_read_ex(s.ssl, buf, sizeof buf, &n) == 1) {
        s.response.append(buf, n);
        if (responseLength(s.response) > 0) return finish(s);
      }
      waitFor(s, 0);
      return;
    }
    if (s.phase == Phase::kDraining) {  // the server's close_notify and FIN
      char buf[4096];
      ssize_t r;
      while ((r = read(s.fd, buf, sizeof buf)) > 0) {
      }
      if (r == 0 || errno != EAGAIN) close(s);
    }
  }

  void finish(Slot& s) {
    if (!s.response.starts_with("HTTP/1.1 200")) return fail(s);
    if (record_) {
      ++totals_->completed;
      if (SSL_session_reused(s.ssl)) ++totals_->resumed;
      totals_->latency_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - s.started).count());
      if (totals_->protocol.empty()) {
        totals_->protocol = SSL_get_version(s.ssl);
        totals_->suite = SSL_get_cipher_name(s.ssl);
        const char* g = SSL_group_to_name(s.ssl, SSL_get_negotiated_group(s.ssl));
        totals_->group = g != nullptr ? g : "?";
      }
    }
    SSL_shutdown(s.ssl);  // close_notify; then our FIN, and the server's awaited
    shutdown(s.fd, SHUT_WR);
    s.phase = Phase::kDraining;
    want(s, EPOLLIN);
  }

  void close(Slot& s) {
    if (s.ssl != nullptr) SSL_free(s.ssl);
    s.ssl = nullptr;
    if (s.fd >= 0) ::close(s.fd);  // epoll forgets it
    s.fd = -1;
  }

  void fail(Slot& s) {
    if (record_) ++totals_->errors;
    ERR_clear_error();
    close(s);
  }

  const Options& o_;
  SSL_CTX* ctx_;
  std::vector<Slot> slots_;
  int epoll_;
  std::string request_;
  Totals* totals_ = nullptr;
  bool record_ = false;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--port")
      o.port = std::atoi(v);
    else if (k == "--mode")
      o.resume = std::string_view(v) == "resume";
    else if (k == "--connections")
      o.connections = std::max(1, std::atoi(v));
    else if (k == "--seconds")
      o.seconds = std::atof(v);
    else if (k == "--path")
      o.path = v;
    else if (k == "--host")
      o.host = v;
    else if (k == "--sni")
      o.sni = v;
    else
      return std::fprintf(stderr, "tls_handshakes: unknown option %s\n", argv[i]), 2;
  }
  if (o.port <= 0) return std::fprintf(stderr, "tls_handshakes: --port is required\n"), 2;
  // What all three proxies are set to: TLS 1.3, one suite, one group; no chain check (the
  // signature in CertificateVerify is still checked).
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
  SSL_CTX_set1_groups_list(ctx, "X25519");
  static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, onNewSession);

  Client client(o, ctx);
  Totals priming, t;
  g_totals = &priming;
  client.run(priming, Clock::now(), true);  // one connection per slot
  if (priming.errors != 0 || priming.completed == 0) {
    std::fprintf(stderr, "tls_handshakes: priming connections failed (%llu errors)\n",
                 static_cast<unsigned long long>(priming.errors));
    return 1;
  }
  std::cout << "ready" << std::endl;
  std::string go;
  std::getline(std::cin, go);
  g_totals = &t;
  const Clock::time_point t0 = Clock::now();
  client.run(
      t, t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds)),
      true);
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "{\"mode\": \"%s\", \"completed\": %llu, \"resumed\": %llu, \"tickets\": %llu, "
      "\"errors\": %llu, \"seconds\": %.3f, \"rate\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
      "\"protocol\": \"%s\", \"suite\": \"%s\", \"group\": \"%s\"}\n",
      o.resume ? "resume" : "full", static_cast<unsigned long long>(t.completed),
      static_cast<unsigned long long>(t.resumed), static_cast<unsigned long long>(t.tickets),
      static_cast<unsigned long long>(t.errors), elapsed,
      static_cast<double>(t.completed) / elapsed, percentile(t.latency_ms, 0.5),
      percentile(t.latency_ms, 0.99), t.protocol.c_str(), t.suite.c_str(), t.group.c_str());
  SSL_CTX_free(ctx);
  return t.errors == 0 && t.completed > 0 ? 0 : 1;
}
