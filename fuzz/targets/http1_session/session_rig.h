// SessionRig: one dpuguard Worker in this process, driven on the caller's thread (no worker
// thread, no sleeps), for the http1_session fuzz target. The client is a socketpair handed
// to the worker (Worker::adopt); the two upstream clusters are loopback listeners the rig
// plays itself from a script. Built once per process (config with inspection on, written
// from strings); each run() opens fresh connections and closes every one of them again.
//
//   SessionRig& rig = SessionRig::instance();
//   Transcript whole = rig.run(plan_without_cuts), cut = rig.run(plan);  // must be equal
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dpuguard::proxy {
class Worker;
class SnapshotSource;
}  // namespace dpuguard::proxy

namespace dpuguard::fuzz::session {

// Where one byte stream is cut into the pieces it is delivered in.
struct Cuts {
  enum class Kind : uint8_t { kNone, kEveryByte, kSelector, kExplicit };
  Kind kind = Kind::kNone;
  uint8_t selector = 0;    // kSelector: 1-4 cuts at places derived from it and the size
  std::vector<size_t> at;  // kExplicit: offsets (those outside (0, size) are ignored)

  // Ascending, distinct offsets in (0, min(size, limit)); `salt` varies kSelector per stream.
  std::vector<size_t> forSize(size_t size, size_t salt, size_t limit = SIZE_MAX) const;
  bool none() const { return kind == Kind::kNone || (kind == Kind::kExplicit && at.empty()); }
};

// The client identities the config knows (CIDR -> identity): who the client is this run.
inline constexpr size_t kPeerCount = 3;  // 0 operator (may reach all), 1 frontend, 2 unknown

struct Plan {
  std::string_view client;  // the client's byte stream (one or more pipelined requests)
  Cuts client_cuts;
  // The k-th request the upstreams read in full is answered with responses[k] (beyond the
  // list: a small 200); an empty response means that upstream closes instead of answering.
  std::vector<std::string_view> responses;
  Cuts response_cuts;  // applied to each response, within responseCutLimit()
  size_t peer = 0;     // < kPeerCount
};

// What one upstream connection read.
struct UpstreamLeg {
  std::string title;  // cluster, and whether the proxy closed it (did not pool it)
  std::string bytes;  // everything the proxy sent on it, chunked bodies decoded
  size_t complete_bytes =
      0;  // the whole requests at its front (decoded); an unfinished one may follow

  // Equal, or both cut by the proxy in the middle of a request after the same whole ones,
  // one unfinished request a prefix of the other: a body refused while streaming (over a
  // route's max_body_bytes) has had a prefix forwarded that depends on the reads by design.
  bool sameAs(const UpstreamLeg& o) const;
};

// What one run did, in forms that must not depend on the cuts.
struct Transcript {
  std::vector<UpstreamLeg> upstream;  // per upstream connection, in the order opened
  std::string client;                 // client-bound bytes, chunked bodies decoded (wire_scan.h)
  std::string flow;                   // the flow log, time fields removed
  bool client_closed = false;         // the proxy closed the client connection before the rig did
  int upstream_requests = 0;          // complete requests the upstreams read
  int forwarded_records = 0;          // flow-log records naming an endpoint
  uint64_t retries = 0;               // dpuguard_upstream_retries during the run
  std::string problem;                // an invariant of the run itself that broke; empty if none

  // Equal (upstream legs by UpstreamLeg::sameAs), except that when the proxy cut the client
  // connection after the response began, one run's client bytes may be a prefix of the other's.
  bool sameAs(const Transcript& o) const;
  // Every field, for a diff when two runs disagree.
  std::string dump() const;
};

class SessionRig {
 public:
  static SessionRig& instance();  // built on first use; never destroyed
  Transcript run(const Plan& plan);

 private:
  struct Conn;
  SessionRig();
  ~SessionRig();
  void settle();
  bool inFlight() const;
  bool acceptUpstreams();
  bool readUpstreams();
  bool answerUpstreams();
  void hangUp(Conn& c);
  bool hangUpIdle();
  bool readClient();
  bool writeClient(std::string_view piece);
  std::string takeFlowLog();
  void fail(std::string what);

  int upstream_listen_[2] = {-1, -1};  // api, llm
  int flow_fd_ = -1;                   // memfd the flow log is written to
  std::unique_ptr<proxy::SnapshotSource> source_;
  std::unique_ptr<proxy::Worker> worker_;

  // The run in progress.
  const Plan* plan_ = nullptr;
  Transcript* out_ = nullptr;
  int client_ = -1;
  bool client_eof_ = false;
  bool ending_ = false;  // the client is done: upstreams hang up once they have answered
  std::string client_bytes_;
  std::vector<Conn> conns_;
  size_t next_response_ = 0;
  uint64_t opened_before_ = 0;  // dpuguard_upstream_connections_opened when the run began
};

}  // namespace dpuguard::fuzz::session
