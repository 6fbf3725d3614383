// HostLink: one worker's channel to one host-resident backend (`host://NAME`): a Unix socket
// to dpuguard-host at SOCKET_DIR/NAME.sock, the shm ChannelEnd negotiated over it, and the
// HostStreams multiplexed on the rings by stream id. Share-nothing like everything in a worker.
//
// Failure model: a ring fault (garbage from the host), a stall (no heartbeat for
// stall_timeout_ms while work is in flight) or the socket closing takes the link down: every
// stream is closed at once, so sessions answer 502 (nothing sent yet) or cut the client; new
// connections fail fast until a reconnect succeeds with fresh regions at epoch + 1.
//
// Attestation (ATTESTATION.md): an AttestChallenge from the host is answered on the ring with
// the QuoteSource's signed quote over its nonce, in QuoteParts, or with a refusal saying why.
//
// The link named by host_channel.labels also carries the host's IdentityLabel messages to a
// LabelSink; it is kept connected (retried every 200 ms while down), traffic or not.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "parsers/http1/limits.h"
#include "proxy/config/config.h"
#include "proxy/core/event_loop.h"
#include "proxy/host/host_stream.h"
#include "proxy/telemetry/flow_log.h"
#include "shm/channel_end.h"
#include "shm/messages.h"
#include "shm/stall_watchdog.h"

namespace dpuguard::proxy {

struct WorkerMetrics;

class HostLink final : public Timer {
 public:
  // Where a labels link delivers: reset() when a new channel comes up (the host then sends its
  // whole set again), label() for each validated IdentityLabel.
  class LabelSink {
   public:
    virtual ~LabelSink() = default;
    virtual void reset() = 0;
    virtual void label(const shm::IdentityLabelView& v) = 0;
  };

  // Signs quotes for the host: true with the quote's JSON over `nonce_hex`, or false with
  // why not (no attestation key configured, ...).
  class QuoteSource {
   public:
    virtual ~QuoteSource() = default;
    virtual bool quote(std::string_view nonce_hex, std::string* out) = 0;
  };

  HostLink(EventLoop& loop, WorkerMetrics& metrics, std::string name,
           const HostChannelConfig& config);
  ~HostLink() override;

  // A new upstream connection: a HostStream (an in-memory Transport), or null with *err set
  // when the host cannot be reached (ECONNREFUSED: no dpuguard-host, EPROTO: handshake refused).
  std::unique_ptr<HostStream> openStream(const http1::Limits& limits, int* err);
  // A HostStream going away (its owner, an UpstreamConnection, deletes it).
  void forget(HostStream* s);

  // For HostStream: ring access. room() is true when `messages` more fit in the ring now.
  bool up() const { return channel_.up(); }
  bool room(size_t messages);
  bool send(shm::MessageSchema schema, std::span<const std::byte> payload);
  void flush();
  uint32_t maxPayload() const { return geometry_.maxPayload(); }
  uint64_t beginExchange(HostStream* s);
  void endExchange(uint64_t id);
  void blocked(HostStream* s);
  EventLoop& loopOf() { return loop_; }
  // Encoding space for one message of maxPayload() bytes.
  std::vector<std::byte>& scratch() { return scratch_; }

  void onTimer() override;

  // One flow event (host_channel.events): sent if the link is up or comes up now, else dropped
  // and counted; never queued, never blocking the exchange it describes.
  void sendFlowEvent(const SocketAddress& client, const FlowRecord& rec);

  // Makes this the labels link (keeps it connected, hands labels to `sink`), or with null
  // stops that; labels arriving on a link without a sink are refused and counted.
  void takeLabels(LabelSink* sink);
  // Who answers the host's challenges (null: each is refused).
  void setQuoteSource(QuoteSource* source) { quote_source_ = source; }

 private:
  class FdWatch;

  bool connect();
  void down(const char* why);
  void onWake(uint32_t events);
  void onControl(uint32_t events);
  void pollRing();
  void deliver(const shm::RingMessage& m);
  void answerChallenge(const shm::AttestChallenge& c);
  void armTimer();

  EventLoop& loop_;
  WorkerMetrics& metrics_;
  std::string name_;
  HostChannelConfig config_;
  shm::RingGeometry geometry_;
  shm::ChannelEnd channel_;
  shm::StallWatchdog watchdog_;
  int sock_ = -1;
  uint64_t epoch_ = 0;
  int64_t retry_after_ms_ = 0;
  uint64_t next_stream_id_ = 1;
  std::unique_ptr<FdWatch> wake_watch_;
  std::unique_ptr<FdWatch> control_watch_;
  std::vector<HostStream*> streams_;           // live; owned by their upstream connections
  std::map<uint64_t, HostStream*> exchanges_;  // stream id -> stream with an exchange in flight
  std::vector<HostStream*> blocked_;
  std::vector<std::byte> scratch_;
  bool timer_armed_ = false;
  // The host asked to drain: no new streams; in-flight ones finish until the deadline, then
  // the link is closed and the next request reconnects (to the restarted host).
  bool draining_ = false;
  int64_t drain_deadline_ms_ = 0;
  LabelSink* label_sink_ = nullptr;  // set: keep the link up even without traffic
  QuoteSource* quote_source_ = nullptr;
};

}  // namespace dpuguard::proxy
