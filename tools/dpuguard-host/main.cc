// dpuguard-host: the host-side peer of dpuguard's shared-memory channel.
//   dpuguard-host serve NAME --forward http://127.0.0.1:PORT [--socket-dir DIR]
//       serves `host://NAME`: each DPU request becomes an HTTP/1.1 request to the local server
//   dpuguard-host verify --expect FILE --pubkey FILE (--admin http://IP:PORT | --quote F --nonce
//   HEX)
//       checks a quote of dpuguard's measurements (attestor.h); 0 verified, 1 refused
//   serve and events take --expect FILE --pubkey FILE: then each channel challenges its DPU end
//       on the channel itself (channel_trust.h) at once and every --attest-interval-ms (default
//       1000), bridges no request (503) and passes no flow event until the quote over its nonce
//       verifies, so a reload to an unknown measurement stops it within one interval
//   dpuguard-host events NAME [--labels FILE] [--socket-dir DIR]
//       prints the DPU's flow events for `host_channel.events: NAME` as JSON lines; with
//       --labels, also labels client networks with identities for `host_channel.labels.from:
//       NAME` (LabelBook: every worker gets FILE's labels, SIGHUP re-reads FILE)
// SIGTERM/SIGINT (serve): asks every connected worker to drain (no new requests; those in
// flight finish, up to --drain-ms, default 10000), waits for them, then exits 0.
// It listens on DIR/NAME.sock (default /run/dpuguard); each dpuguard worker connects once and
// gets its own channel and thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "attest/device_key.h"
#include "shm/host/host_channel.h"
#include "shm/message_codec.h"
#include "tools/dpuguard-host/attestor.h"
#include "tools/dpuguard-host/channel_trust.h"
#include "tools/dpuguard-host/http_bridge.h"
#include "tools/dpuguard-host/label_book.h"

namespace {

using namespace dpuguard;

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reload = 0;
void onStop(int) {
  g_stop = 1;
}
void onReload(int) {
  g_reload = 1;
}

// Live serve channels, for the drain on SIGTERM.
struct Live {
  std::mutex mutex;
  std::list<std::pair<shm::HostChannel*, host::HttpBridge*>> channels;
};

int usage() {
  std::fprintf(
      stderr,
      "usage: dpuguard-host serve NAME --forward http://IP:PORT [--socket-dir DIR] [--ring-slots "
      "N] "
      "[--ring-slot-bytes N]\n"
      "       dpuguard-host events NAME [--labels FILE] [--socket-dir DIR] [--ring-slots N] "
      "[--ring-slot-bytes N]\n"
      "         serve and events also take --expect FILE --pubkey FILE [--attest-interval-ms N]:\n"
      "         nothing passes until the quote dpuguard signs over the channel's nonce verifies\n"
      "         (N: 50..3600000 ms, default 1000)\n"
      "       dpuguard-host verify --expect FILE --pubkey FILE (--admin http://IP:PORT | --quote "
      "FILE --nonce HEX)\n");
  return 2;
}

// `events`: flow events as JSON lines, each with the measurement id of the snapshot that
// judged it; requests are refused with 503. With --expect, an event is printed only when the
// channel's DPU end is trusted and the event's measurement is the one its quote verified:
// events that arrive while the verdict is pending are held (up to kMaxHeld) until it comes;
// the others are dropped, with a line on stderr when the measurement refused changes.
class EventPrinter final : public shm::HostChannel::Handler {
 public:
  explicit EventPrinter(host::ChannelTrust* trust) : trust_(trust) {}
  void attach(shm::HostChannel* c) { channel_ = c; }
  void onMessage(shm::MessageSchema schema, std::span<const std::byte> payload) override {
    if (schema == shm::MessageSchema::kQuotePart) {
      if (trust_ == nullptr) return;
      trust_->onQuotePart(shm::decodeQuotePart(payload));
      std::lock_guard<std::mutex> lock(outMutex());
      if (trust_->state() == host::ChannelTrust::State::kPending) return;
      for (const auto& [measurement, line] : held_) emit(measurement, line);
      held_.clear();
    } else if (schema == shm::MessageSchema::kFlowEvent) {
      const auto e = shm::decodeFixed<shm::FlowEvent>(payload);
      // Both checked by checkFlowEvent: printable ASCII, NUL-padded; lowercase hex or zero.
      const std::string route(e.route, strnlen(e.route, sizeof e.route));
      const std::string measurement(e.measurement, strnlen(e.measurement, sizeof e.measurement));
      char addr[INET6_ADDRSTRLEN] = "?";
      inet_ntop(e.family == 4 ? AF_INET : AF_INET6, e.client_addr, addr, sizeof addr);
      char line[512];
      std::snprintf(
          line, sizeof line,
          "{\"stream_id\":%llu,\"start_unix_ns\":%llu,\"duration_us\":%u,\"status\":%u,\"client\":"
          "\"%s\",\"client_port\":%u,\"bytes_in\":%u,\"bytes_out\":%u,\"route\":\"%s\","
          "\"measurement\":\"%s\"}",
          static_cast<unsigned long long>(e.stream_id),
          static_cast<unsigned long long>(e.start_unix_ns), e.duration_us, e.status, addr,
          e.client_port, e.bytes_in, e.bytes_out, route.c_str(), measurement.c_str());
      std::lock_guard<std::mutex> lock(outMutex());
      if (trust_ != nullptr && trust_->state() == host::ChannelTrust::State::kPending) {
        if (held_.size() < kMaxHeld)
          held_.emplace_back(measurement, line);
        else
          refuse(measurement, "more events than are held while the verdict is pending");
        return;
      }
      emit(measurement, line);
    } else if (schema == shm::MessageSchema::kRequestHead) {
      const auto v = shm::decodeRequestHead(payload);
      std::byte buf[64];
      const size_t n =
          shm::encodeResponseHead(buf, v.prefix.stream_id, 503, shm::kHeadEndStream, {});
      channel_->post(shm::MessageSchema::kResponseHead, std::span(buf, n));
    }
  }
  void onReset() override {
    if (trust_ != nullptr && channel_ != nullptr) trust_->onReset(*channel_);
  }

 private:
  static constexpr size_t kMaxHeld = 4096;

  static std::mutex& outMutex() {  // stdout and every printer's state
    static std::mutex m;
    return m;
  }
  void emit(const std::string& measurement, const std::string& line) {
    if (trust_ != nullptr && !trust_->trusts(measurement)) {
      refuse(measurement, "not the one verified");
      return;
    }
    last_refused_.clear();
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
  void refuse(const std::string& measurement, const char* why) {
    if (measurement == last_refused_) return;
    std::fprintf(stderr, "dpuguard-host: dropping flow events of measurement %s: %s\n",
                 measurement.empty() ? "(none)" : measurement.c_str(), why);
    last_refused_ = measurement;
  }

  host::ChannelTrust* trust_;
  shm::HostChannel* channel_ = nullptr;
  std::deque<std::pair<std::string, std::string>> held_;  // (measurement, line), pending
  std::string last_refused_;  // the measurement refused last, logged once
};

// --expect and --pubkey go together; false (after a line on stderr) when they do not, or a
// file does not read.
bool loadAnchor(const std::string& expect_file, const std::string& pubkey_file,
                host::TrustAnchor* out) {
  std::string expect_text, why;
  if (expect_file.empty() || pubkey_file.empty()) {
    std::fprintf(stderr, "dpuguard-host: --expect FILE and --pubkey FILE go together\n");
    return false;
  }
  if (!host::readFile(expect_file, &expect_text, &why) ||
      !host::readFile(pubkey_file, &out->public_pem, &why) ||
      !attest::Expectation::parse(expect_text, &out->expect, &why)) {
    std::fprintf(stderr, "dpuguard-host: %s\n", why.c_str());
    return false;
  }
  if (const std::string problem = attest::publicKeyProblem(out->public_pem); !problem.empty()) {
    std::fprintf(stderr, "dpuguard-host: --pubkey %s: %s\n", pubkey_file.c_str(), problem.c_str());
    return false;
  }
  return true;
}

// Challenges `trust`'s channel every `interval_ms` until `done`.
void challengeEvery(uint32_t interval_ms, host::ChannelTrust& trust, shm::HostChannel& channel,
                    const std::atomic<bool>& done) {
  while (!done) {
    for (uint32_t waited = 0; waited < interval_ms && !done; waited += 20)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!done) trust.challenge(channel);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "verify") == 0) {
    const int rc = host::verifyCommand(argc - 2, argv + 2);
    return rc == 2 ? usage() : rc;
  }
  if (argc < 3) return usage();
  const std::string mode = argv[1], name = argv[2];
  std::string socket_dir = "/run/dpuguard", forward, labels_file;
  std::string expect_file, pubkey_file;
  uint32_t attest_interval_ms = 1000;
  shm::RingGeometry geometry{256, 16384};
  uint32_t drain_ms = 10000;
  // Every flag takes a value; numbers are decimal digits within their range, else usage.
  bool numbers_ok = (argc - 3) % 2 == 0;
  auto number = [&numbers_ok](const std::string& v, uint32_t min, uint32_t max) -> uint32_t {
    uint64_t n = 0;
    bool ok = !v.empty() && v.size() <= 10;
    for (char c : v) {
      ok = ok && c >= '0' && c <= '9';
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    ok = ok && n >= min && n <= max;
    numbers_ok = numbers_ok && ok;
    return ok ? static_cast<uint32_t>(n) : min;
  };
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--socket-dir")
      socket_dir = value;
    else if (flag == "--forward")
      forward = value;
    else if (flag == "--labels" && mode == "events")
      labels_file = value;
    else if (flag == "--ring-slots")
      geometry.capacity = number(value, 1, 1u << 20);
    else if (flag == "--ring-slot-bytes")
      geometry.payload_stride = number(value, 1, 1u << 24);
    else if (flag == "--drain-ms")
      drain_ms = number(value, 0, 3'600'000);
    else if (flag == "--expect")
      expect_file = value;
    else if (flag == "--pubkey")
      pubkey_file = value;
    else if (flag == "--attest-interval-ms")
      attest_interval_ms = number(value, 50, 3'600'000);
    else
      return usage();
  }
  sockaddr_in backend{};
  if (!numbers_ok || (mode != "serve" && mode != "events") ||
      (mode == "serve" &&
       (forward.rfind("http://", 0) != 0 || !host::parseAddress(forward, &backend))) ||
      !geometry.valid()) {
    return usage();
  }
  static host::TrustAnchor anchor;
  const bool attest = !expect_file.empty() || !pubkey_file.empty();
  if (attest && !loadAnchor(expect_file, pubkey_file, &anchor)) return 1;
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = onStop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction hup {};
  hup.sa_handler = onReload;
  sigaction(SIGHUP, &hup, nullptr);
  static Live live;
  static std::unique_ptr<host::LabelBook> labels;
  if (!labels_file.empty()) {
    labels = std::make_unique<host::LabelBook>(labels_file);
    if (!labels->reload()) return 1;
  }
  mkdir(socket_dir.c_str(), 0700);
  const std::string path = socket_dir + "/" + name + ".sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    std::fprintf(stderr, "dpuguard-host: socket path too long: %s\n", path.c_str());
    return 1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  unlink(path.c_str());
  const int listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listener, 64) != 0) {
    std::perror("dpuguard-host: listen");
    return 1;
  }
  std::fprintf(stderr, "dpuguard-host: %s host://%s on %s\n", mode.c_str(), name.c_str(),
               path.c_str());
  while (!g_stop) {
    if (g_reload) {
      g_reload = 0;
      if (labels) labels->reload();
    }
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int sock = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (sock < 0) continue;
    std::thread([=] {
      // With --expect: this channel's verdict, challenged at once (the challenge waits in the
      // queue for the handshake) and then every interval.
      std::unique_ptr<host::ChannelTrust> trust =
          attest ? std::make_unique<host::ChannelTrust>(anchor) : nullptr;
      std::atomic<bool> done{false};
      auto run = [&](shm::HostChannel& channel) {
        std::thread ticker;
        if (trust) {
          trust->challenge(channel);
          ticker = std::thread([&] { challengeEvery(attest_interval_ms, *trust, channel, done); });
        }
        const char* why = channel.run();
        done = true;
        if (ticker.joinable()) ticker.join();
        return why;
      };
      if (mode == "serve") {
        host::HttpBridge bridge(backend, trust.get());
        shm::HostChannel channel(sock, geometry, bridge);
        bridge.attach(&channel);
        std::list<std::pair<shm::HostChannel*, host::HttpBridge*>>::iterator self;
        {
          std::lock_guard<std::mutex> lock(live.mutex);
          self = live.channels.insert(live.channels.end(), {&channel, &bridge});
        }
        const char* why = run(channel);
        {
          std::lock_guard<std::mutex> lock(live.mutex);
          live.channels.erase(self);
        }
        std::fprintf(stderr, "dpuguard-host: channel closed: %s\n", why);
      } else {
        EventPrinter printer(trust.get());
        shm::HostChannel channel(sock, geometry, printer);
        printer.attach(&channel);
        if (labels) labels->join(&channel);  // queued now, sent once the handshake is done
        const char* why = run(channel);
        if (labels) labels->leave(&channel);
        std::fprintf(stderr, "dpuguard-host: channel closed: %s\n", why);
      }
      close(sock);
    }).detach();
  }
  // Drain: no new requests from any worker; wait for the streams in flight, then exit.
  close(listener);
  unlink(path.c_str());
  size_t active = 0;
  {
    std::lock_guard<std::mutex> lock(live.mutex);
    for (auto& [channel, bridge] : live.channels) channel->drain(drain_ms);
  }
  // Each worker closes its channel once its streams are done (that is its acknowledgement),
  // so wait for every channel to close, up to the deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
  size_t open = 0;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard<std::mutex> lock(live.mutex);
    open = live.channels.size();
    active = 0;
    for (auto& [channel, bridge] : live.channels) active += bridge->active();
  } while (open > 0 && std::chrono::steady_clock::now() < deadline);
  std::fprintf(stderr, "dpuguard-host: drained (%zu channels, %zu streams left), exiting\n", open,
               active);
  std::fflush(stderr);
  _exit(0);
}
