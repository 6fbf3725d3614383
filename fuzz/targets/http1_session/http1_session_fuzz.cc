// Fuzz target: a whole client session (parser, head rebuild, routing, policy, signatures,
// inference validation, upstream pooling, response forwarding) in a real Worker, driven
// through in-memory transports that deliver the bytes in input-chosen pieces (session_rig.h).
// Issue 22: a head arriving in two reads was refused, forwarded corrupted or smuggled,
// because the input buffer rewound under the parser's views; the parser-only targets could
// not see it. Invariants, on every input:
//   - the bytes every upstream read, the client-bound bytes (chunked bodies decoded), whether
//     the proxy closed the client, the flow log (time fields removed) and the retries are the
//     same when the client stream and the upstream responses arrive cut as when they arrive whole;
//   - in every run: upstream-bound bytes are well-formed requests (one Host, one framing, no
//     bare CR/LF: else smuggling or injection); the upstreams never read more requests than
//     the flow log forwarded (plus retries); the loop goes quiet; no connection outlives both
//     peers.
// Input: a header, then the client stream, then optionally the upstream script:
//   "@" CLIENT_CUTS [";" RESPONSE_CUTS [";" PEER]] "\n"   hand-written seeds: explicit cuts,
//       each "" (none), "*" (every byte) or offsets "12,40" (response cuts apply to each response)
//   or two bytes: the client cut selector, then response cut selector (low 6 bits) and peer
//       (high 2 bits); selector 0 = no cut, all ones = every byte, else 1-4 derived cuts
//   CLIENT_STREAM [ "\n=== upstream ===\n" RESPONSE { "\n=== next ===\n" RESPONSE } ]
// The k-th request the upstreams read in full gets the k-th response (then a small 200); an
// empty response makes that upstream hang up. PEER: 0 operator, 1 frontend, 2 unknown identity.
// What may legitimately follow the cuts, and is compared accordingly (session_rig.h):
//   - a request the proxy stops in the middle of its body (streamed over a route's
//     max_body_bytes) has had a prefix forwarded that depends on the reads: one run's
//     unfinished request must be a prefix of the other's;
//   - a connection cut after the response began: one run's client bytes a prefix of the other's;
//   - chunk sizes of re-chunked bodies (compared decoded); upstream responses are cut only
//     where no message can end early (wire_scan.h responseCutLimit);
//   - streamed body signatures only alert in the rig's rules: a body block forwards a
//     prefix that depends on the reads by design (InspectingBodySink);
//   - bytes_in of an exchange refused mid-request is left out (a reported flow-log finding,
//     regress/2026-12-01-*-bytes-in-depends-on-cut).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/common/fuzz_target.h"
#include "fuzz/common/http1_transcript.h"
#include "fuzz/targets/http1_session/session_rig.h"

namespace {

using dpuguard::fuzz::session::Cuts;
using dpuguard::fuzz::session::Plan;
using dpuguard::fuzz::session::SessionRig;
using dpuguard::fuzz::session::Transcript;

constexpr std::string_view kUpstreamMarker = "\n=== upstream ===\n";
constexpr std::string_view kNextMarker = "\n=== next ===\n";

Cuts parseCuts(std::string_view field) {
  Cuts c;
  if (field == "*") {
    c.kind = Cuts::Kind::kEveryByte;
    return c;
  }
  c.kind = Cuts::Kind::kExplicit;
  size_t value = 0;
  bool digits = false;
  for (char ch : field) {
    if (ch >= '0' && ch <= '9' && value < 1000000) {
      value = value * 10 + static_cast<size_t>(ch - '0');
      digits = true;
    } else if (digits) {
      c.at.push_back(value);
      value = 0;
      digits = false;
    }
  }
  if (digits) c.at.push_back(value);
  return c;
}

Cuts selectorCuts(uint8_t selector, uint8_t all_ones) {
  Cuts c;
  if (selector == 0) return c;
  c.kind = selector == all_ones ? Cuts::Kind::kEveryByte : Cuts::Kind::kSelector;
  c.selector = selector;
  return c;
}

// The plan an input describes; `body_offset` is where the client stream starts in the input.
Plan planFor(std::string_view input, size_t* body_offset) {
  Plan p;
  std::string_view rest;
  if (!input.empty() && input.front() == '@') {
    const size_t nl = input.find('\n');
    const std::string_view header =
        input.substr(1, nl == std::string_view::npos ? std::string_view::npos : nl - 1);
    rest = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    std::vector<std::string_view> fields;
    size_t from = 0;
    for (size_t semi; (semi = header.find(';', from)) != std::string_view::npos; from = semi + 1) {
      fields.push_back(header.substr(from, semi - from));
    }
    fields.push_back(header.substr(from));
    p.client_cuts = parseCuts(fields[0]);
    if (fields.size() > 1) p.response_cuts = parseCuts(fields[1]);
    if (fields.size() > 2 && !fields[2].empty())
      p.peer = static_cast<size_t>(fields[2][0] - '0') % dpuguard::fuzz::session::kPeerCount;
  } else if (input.size() >= 2) {
    const auto a = static_cast<uint8_t>(input[0]);
    const auto b = static_cast<uint8_t>(input[1]);
    p.client_cuts = selectorCuts(a, 0xFF);
    p.response_cuts = selectorCuts(b & 0x3F, 0x3F);
    p.peer = (b >> 6) % dpuguard::fuzz::session::kPeerCount;
    rest = input.substr(2);
  } else {
    rest = {};
  }
  *body_offset = input.size() - rest.size();
  const size_t marker = rest.find(kUpstreamMarker);
  p.client = rest.substr(0, marker);
  if (marker != std::string_view::npos) {
    std::string_view script = rest.substr(marker + kUpstreamMarker.size());
    for (size_t next; (next = script.find(kNextMarker)) != std::string_view::npos;
         script.remove_prefix(next + kNextMarker.size())) {
      p.responses.push_back(script.substr(0, next));
    }
    p.responses.push_back(script);
  }
  return p;
}

[[noreturn]] void report(const char* what, const Transcript& a, const Transcript* b) {
  std::fprintf(stderr, "http1_session: %s\n==== unsegmented run\n%s\n", what, a.dump().c_str());
  if (b != nullptr) std::fprintf(stderr, "==== segmented run\n%s\n", b->dump().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t offset = 0;
  const Plan plan = planFor(dpuguard::fuzz::asText(data, size), &offset);
  if (plan.client.empty()) return 0;
  SessionRig& rig = SessionRig::instance();
  static const bool verbose =
      std::getenv("HTTP1_SESSION_VERBOSE") != nullptr;  // print every transcript
  Plan whole = plan;
  whole.client_cuts = {};
  whole.response_cuts = {};
  const Transcript reference = rig.run(whole);
  if (verbose) std::fprintf(stderr, "==== unsegmented run\n%s\n", reference.dump().c_str());
  if (!reference.problem.empty())
    report("an invariant of the unsegmented run broke", reference, nullptr);
  if (plan.client_cuts.none() && plan.response_cuts.none()) return 0;
  const Transcript cut = rig.run(plan);
  if (verbose) std::fprintf(stderr, "==== segmented run\n%s\n", cut.dump().c_str());
  if (!cut.problem.empty()) report("an invariant of the segmented run broke", reference, &cut);
  if (!cut.sameAs(reference))
    report("the session depends on how its bytes were cut", reference, &cut);
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  size_t offset = 0;
  Plan plan = planFor(input, &offset);
  if (plan.client.empty()) return "empty";
  plan.client_cuts = {};
  plan.response_cuts = {};
  const Transcript t = SessionRig::instance().run(plan);
  // Statuses and reasons from the flow log, in order.
  std::string statuses, first_reason;
  for (size_t at = t.flow.find("\"status\":"); at != std::string::npos;
       at = t.flow.find("\"status\":", at + 1)) {
    const size_t from = at + 9;
    statuses += (statuses.empty() ? "" : ",") + t.flow.substr(from, t.flow.find(',', from) - from);
    if (first_reason.empty()) {
      const size_t r = t.flow.find("\"reason\":\"", at);
      if (r != std::string::npos)
        first_reason = t.flow.substr(r + 10, t.flow.find('"', r + 10) - r - 10);
    }
  }
  std::string out;
  if (!t.problem.empty()) {
    out = "problem:" + t.problem.substr(0, 60);
    for (char& c : out) c = c == ' ' ? '-' : c;
  } else if (t.upstream_requests > 0) {
    out = "accepted:" + std::to_string(t.upstream_requests) + "-forwarded";
  } else if (!statuses.empty()) {
    out = "rejected:" + statuses.substr(0, statuses.find(',')) + "-" + first_reason;
  } else {
    out = "incomplete";
  }
  out += " statuses=" + (statuses.empty() ? std::string("none") : statuses);
  // The parser's own reading of the client stream, for the reviewers' head tags.
  dpuguard::http1::Options o;
  o.limits = dpuguard::http1::smallLimits();
  const std::string heads =
      dpuguard::http1::outcomeOf(dpuguard::http1::runSummary(plan.client, {}, o), offset);
  if (const size_t h = heads.find(" heads="); h != std::string::npos) out += heads.substr(h);
  return out;
}
