// CompletionScan: output guardrails. The `completion` signatures (and the route's canaries)
// read the text a model generates: a streamed answer event by event, in Vectorscan's stream
// mode so a secret split across events still matches, or a whole answer at once. No I/O, no
// clock; reused by a session (streams opened once per snapshot, reset per answer), so after
// warm-up nothing allocates per event.
//
// Streamed answers: the caller (the response sink) hands over each complete SSE event's
// `data` and gets a verdict for that event before forwarding it: kForward (forward it now) or
// kBlock (this event completes a blocking match: do not forward it nor anything after it; cut
// the stream at this event boundary, send kBlockNotice, end the chunked stream). Nothing is
// ever held back: the caller holds no event bytes beyond the one in hand.
//
// Vectorscan 5.4.9's stream mode misses matches written 1-2 bytes at a time (SECURITY.md), and
// a token is 1-4 bytes of text. So no write to the stream is shorter than kMinScanWrite unless
// it is all the text so far: a short event's text is scanned again together with the last
// 16-31 bytes before it, from a copy of the stream state kept before them (a checkpoint,
// hs_reset_and_copy_stream). That costs a rescan of ~24 bytes and a state copy per short
// event; it buys zero added latency, and the event that completes a match is the one in hand.
//
// Text per choice: choices (n > 1) are interleaved event by event, so choice indexes below
// kMaxLanes - 1 have a lane (a stream) of their own and the rest share the last lane. Within
// a lane, a NUL byte is put between pieces of different fields (content, reasoning, one tool
// call's arguments and the next) or choices, so no match spans two of them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/json/completion_chunk.h"
#include "proxy/inspect/signature_set.h"

struct hs_database;
struct hs_scratch;
struct hs_stream;

namespace dpuguard::proxy::inspect {

enum class EventVerdict : uint8_t {
  kForward,  // forward this event now
  kBlock,    // cut the stream before this event (it is not forwarded, nor anything after it)
};

class CompletionScan {
 public:
  static constexpr size_t kMinScanWrite = 16;
  static constexpr size_t kMaxLanes = 8;
  // What the session appends to a cut stream: an OpenAI-style error event, then the end marker.
  static constexpr std::string_view kBlockNotice =
      "data: {\"error\":{\"message\":\"the answer was stopped by an output "
      "guardrail\",\"type\":\"dpuguard_error\","
      "\"param\":null,\"code\":\"completion_blocked\"}}\n\ndata: [DONE]\n\n";
  // The body of the 502 that replaces a blocked whole answer.
  static constexpr std::string_view kBlockBody =
      "{\"error\":{\"message\":\"the answer was stopped by an output "
      "guardrail\",\"type\":\"dpuguard_error\","
      "\"param\":null,\"code\":\"completion_blocked\"}}";

  CompletionScan() = default;
  ~CompletionScan();
  CompletionScan(const CompletionScan&) = delete;
  CompletionScan& operator=(const CompletionScan&) = delete;

  // Starts a new answer on route `route` (its index in Config::routes, which picks its
  // canaries). `scratch` is the worker's, fitted to `set` (SignatureScratch::forSet). Inactive
  // (every call a no-op that forwards) when `set` is null or has neither a completion rule nor
  // a canary of this route.
  void start(const SignatureSet* set, hs_scratch* scratch, int route);
  bool active() const { return set_ != nullptr; }
  // A blocking rule has matched (streamed: the stream was cut; whole: the answer is refused).
  // Fails closed: when the scan cannot run (a stream cannot be allocated, Vectorscan refuses
  // the scratch) it blocks too, with no rule in `m` (m.block < 0): log it as such.
  bool blocked() const { return blocked_; }

  // One complete SSE event: its `data` (the data lines joined, EventStreamParser's view).
  // Parses it with `parser`; a chunk's generated text is scanned (GeneratedText), an event
  // that is not a JSON object is scanned as it is (a hostile upstream cannot hide text by
  // breaking the JSON), and `[DONE]` ends the text: end-anchored matches are checked before
  // it is forwarded. Matches go to `m` (alerts too, with blocks = false). After kBlock every
  // later call returns kBlock.
  EventVerdict onEvent(std::string_view data, json::CompletionChunkParser& parser, Matches& m);
  // The same for a caller that parsed the event already (one parse for the token meter and
  // this): `text` from parser.parse(data, capacity, chunk, &text), or null when that parse
  // returned false.
  EventVerdict onEventText(std::string_view data, const json::GeneratedText* text, Matches& m);
  // The body ended (after its last event): end-anchored matches, if `[DONE]` did not come.
  // True if blocked; every event has been forwarded by then, so this only reports.
  bool finish(Matches& m);

  // A whole (non-streamed) answer: its generated text, or the body itself when it is not a
  // JSON object, scanned in one pass. `capacity` as for the parser (kJsonPadding to spare:
  // parsed in place). True if a blocking rule matched: answer 502 with kBlockBody instead.
  bool scanWhole(std::string_view body, size_t capacity, json::CompletionChunkParser& parser,
                 Matches& m);
  // The same with the answer parsed already (`text` null when the parse returned false).
  bool scanWholeText(std::string_view body, const json::GeneratedText* text, Matches& m);

  // Bytes written to Vectorscan for this answer (rescans included) and writes shorter than
  // kMinScanWrite that were not all of the text so far (must stay 0), for tests and benchmarks.
  uint64_t scannedBytes() const { return scanned_bytes_; }
  uint64_t shortWrites() const { return short_writes_; }

 private:
  // A piece's identity: a NUL goes between two pieces of a lane whose keys differ.
  struct PieceKey {
    uint32_t choice = 0;
    uint32_t tool = 0;
    uint8_t channel = 0;
    bool operator==(const PieceKey&) const = default;
  };
  struct Lane {
    hs_stream* stream = nullptr;      // state after all of the lane's text
    hs_stream* checkpoint = nullptr;  // state before tail
    std::array<char, 2 * kMinScanWrite> tail{};
    size_t tail_n = 0;
    bool from_start = true;  // the checkpoint is the start of the text (no write before it)
    bool used = false;       // has text in this answer
    PieceKey last;
  };

  void feedPiece(size_t lane, PieceKey key, std::string_view piece, Matches& m);
  void feedLane(Lane& lane, std::string_view text, Matches& m);
  void write(hs_stream* stream, std::string_view data, bool from_start, Matches& m);
  void copy(hs_stream* to, const hs_stream* from);
  bool openLane(Lane& lane);
  void endText(Matches& m);
  void closeLanes();

  const SignatureSet* set_ = nullptr;
  uint64_t opened_for_ = 0;  // serial() of the set the lanes' streams belong to
  hs_scratch* scratch_ = nullptr;
  int route_ = -1;
  bool blocked_ = false;
  bool ended_ = false;  // [DONE] or finish(): end-of-text matches reported
  std::array<Lane, kMaxLanes> lanes_{};
  std::string piece_;         // a separator and a piece, assembled
  json::GeneratedText text_;  // the event's text, when onEvent parses
  uint64_t scanned_bytes_ = 0;
  uint64_t short_writes_ = 0;
};

// The signature that makes `canary` (a literal, case-sensitive) a blocking completion rule of
// route `route` (index `route_index`): id "dpg-leak-<route>-<n>" (n from 1), severity critical.
// The pattern is the canary's bytes as \xHH escapes, so no byte of it is read as regex syntax.
Signature canarySignature(std::string_view route, int route_index, size_t n,
                          std::string_view canary);

}  // namespace dpuguard::proxy::inspect
