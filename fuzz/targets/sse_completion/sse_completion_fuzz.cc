// Fuzz target: the output guardrails over a streamed answer (proxy/inspect/completion_scan.h),
// fed the SSE events an upstream sends. Invariants:
//   - the scan cuts exactly where a block-mode scan of the text says: the first event after
//     which some lane's text (a choice's pieces, NUL between fields) holds a blocking match is
//     the event refused, and no event before it is (so nothing forwarded ever holds a
//     completed match, and nothing is cut that should pass);
//   - the same answer with its text split into other events (every piece cut into pieces of
//     1..8 bytes, each its own OpenAI chunk) gets the same verdict, cut the same way;
//   - an event that gives a field it is read from twice (a client keeps the last) is cut as
//     unreadable, with no rule, and so is a whole answer that does;
//   - no write to Vectorscan is shorter than 16 bytes unless it is all the text so far;
//   - each event's data read as a whole (non-streamed) answer is blocked exactly when a
//     block-mode scan of its pieces (NUL-separated), or of the data when it is not JSON, is.
// Input: byte 0 picks the re-split piece size (1..8), byte 1 the route (bit 0: whose canary
// counts), the rest is the event stream.
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/common/fuzz_target.h"
#include "parsers/json/completion_chunk.h"
#include "parsers/sse/event_stream_parser.h"
#include "proxy/inspect/completion_scan.h"

namespace {

using namespace dpuguard::proxy::inspect;
using dpuguard::json::CompletionChunk;
using dpuguard::json::CompletionChunkParser;
using dpuguard::json::GeneratedText;
using dpuguard::json::OutputChannel;
using dpuguard::json::OutputPiece;

constexpr size_t kMaxInput = 8 * 1024;
constexpr size_t kMaxEvent = 32 * 1024;  // MeteringBodySink::kMaxEventBytes

// Rules without an assertion about the byte after the match (as shipped), so a block-mode
// scan of a prefix says whether the match is complete there. One is the pattern Vectorscan
// 5.4.9 lost in 1-2 byte writes.
std::vector<Signature> rules(Where where) {
  const struct {
    const char* id;
    const char* pattern;
    SignatureAction action;
  } table[] = {
      {"f-aws", "\\bAKIA[0-9A-Z]{16}", SignatureAction::kBlock},
      {"f-drop", ";\\s*drop\\s+table", SignatureAction::kBlock},
      {"f-key", "-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----", SignatureAction::kBlock},
      {"f-ghp", "\\bghp_[A-Za-z0-9]{8}", SignatureAction::kBlock},
      {"f-jwt", "\\beyJ[A-Za-z0-9_-]{4,}\\.eyJ", SignatureAction::kAlert},
  };
  std::vector<Signature> sigs;
  for (const auto& t : table) {
    Signature s;
    s.id = t.id;
    s.pattern = t.pattern;
    s.action = t.action;
    s.caseless = false;
    sigs.push_back(s);
  }
  sigs.push_back(canarySignature("chat", 0, 1, "CANARY-7f3a-9b21"));
  sigs.push_back(canarySignature("other", 1, 1, "OTHER-CANARY-1234"));
  for (Signature& s : sigs) s.where = static_cast<uint8_t>(1u << static_cast<unsigned>(where));
  return sigs;
}

struct Sets {
  std::shared_ptr<const SignatureSet> stream, block;
  SignatureScratch stream_scratch, block_scratch;
};

Sets& sets() {
  static Sets* s = [] {
    auto* out = new Sets;
    dpuguard::proxy::ConfigError error;
    out->stream = SignatureSet::compile(rules(Where::kCompletion), &error);
    out->block = SignatureSet::compile(rules(Where::kPrompt), &error);
    if (!out->stream || !out->block) std::abort();
    return out;
  }();
  return *s;
}

std::vector<std::string> eventsOf(std::string_view stream) {
  dpuguard::sse::EventStreamParser p(kMaxEvent);
  std::vector<std::string> events;
  while (!stream.empty()) {
    const dpuguard::sse::SseResult r = p.feed(stream);
    if (r.status == dpuguard::sse::SseStatus::kError) break;  // unfollowable: the sink stops there
    if (r.status == dpuguard::sse::SseStatus::kEvent) events.emplace_back(p.event().data);
    stream.remove_prefix(r.consumed);
  }
  return events;
}

// An event whose text a client may read otherwise than the scan: a field given twice.
bool ambiguous(const std::string& data) {
  static CompletionChunkParser parser(kMaxEvent);
  static GeneratedText text;
  CompletionChunk chunk;
  // JSON may start with whitespace (an event whose first data line is empty begins with LF):
  // the scan reads such an event as JSON, and so does a client.
  return !data.empty() && parser.parse(data, data.size(), chunk, &text) && text.ambiguous;
}

// The scan under test: the index of the event refused, or events.size() when all pass.
size_t scanned(const std::vector<std::string>& events, int route, std::string* rule) {
  static CompletionScan scan;
  static CompletionChunkParser parser(kMaxEvent);
  Sets& s = sets();
  Matches m;
  scan.start(s.stream.get(), s.stream_scratch.forSet(*s.stream), route);
  size_t i = 0;
  while (i < events.size() && scan.onEvent(events[i], parser, m) == EventVerdict::kForward) ++i;
  const bool end_blocked = scan.finish(m);
  if (scan.shortWrites() != 0) std::abort();
  if (end_blocked != (i < events.size())) std::abort();  // no `$` rule: nothing new at the end
  // A refusal names its rule, unless the refused event was ambiguous (unreadable: no rule).
  if (i < events.size() ? (m.block < 0 && !ambiguous(events[i])) : m.block >= 0) std::abort();
  if (rule != nullptr && m.block >= 0)
    *rule = s.stream->signatures()[static_cast<size_t>(m.block)].id;
  return i;
}

// The reference: lane texts built as the scan documents them, each byte tagged with the event
// it came from; the earliest prefix of a lane text holding a blocking match (block mode,
// binary search: a match in a prefix stays in every longer one) names the event to refuse.
struct LaneText {
  std::string text;
  std::vector<uint32_t> owner;  // event index of each byte
  bool used = false;
  uint32_t choice = 0, tool = 0;
  uint8_t channel = 0;
};

bool blocks(std::string_view text, int route) {
  Sets& s = sets();
  Matches m;
  s.block->scan(Where::kPrompt, text, s.block_scratch.forSet(*s.block), m);
  for (size_t i = 0; i < m.count; ++i) {
    const Signature& sig = s.block->signatures()[m.ids[i]];
    if (sig.action == SignatureAction::kBlock && (sig.route < 0 || sig.route == route)) return true;
  }
  return false;
}

size_t expected(const std::vector<std::string>& events, int route) {
  static CompletionChunkParser parser(kMaxEvent);
  static GeneratedText text;
  std::vector<LaneText> done;  // texts ended by [DONE]
  std::vector<LaneText> lanes(CompletionScan::kMaxLanes);
  size_t events_end = events.size();  // an ambiguous event, or the end
  auto add = [&](uint32_t choice, uint32_t tool, uint8_t channel, std::string_view piece,
                 uint32_t event) {
    LaneText& lane = lanes[std::min<size_t>(choice, CompletionScan::kMaxLanes - 1)];
    if (lane.used && (lane.choice != choice || lane.tool != tool || lane.channel != channel)) {
      lane.text.push_back('\0');
      lane.owner.push_back(event);
    }
    lane.used = true;
    lane.choice = choice, lane.tool = tool, lane.channel = channel;
    lane.text.append(piece);
    lane.owner.insert(lane.owner.end(), piece.size(), event);
  };
  for (uint32_t i = 0; i < events.size(); ++i) {
    const std::string& data = events[i];
    CompletionChunk chunk;
    if (data == "[DONE]") {
      for (LaneText& lane : lanes) done.push_back(std::move(lane)), lane = LaneText{};
    } else if (!data.empty() && parser.parse(data, data.size(), chunk, &text)) {
      if (text.ambiguous) {  // cut here, whatever follows
        events_end = i;
        break;
      }
      for (const OutputPiece& p : text.pieces) {
        add(p.choice, p.tool, static_cast<uint8_t>(p.channel), text.piece(p), i);
      }
    } else if (!data.empty()) {
      add(0, 0, 0xff, data, i);
    }
  }
  for (LaneText& lane : lanes) done.push_back(std::move(lane));
  size_t first = events_end;
  for (const LaneText& lane : done) {
    if (lane.text.empty() || !blocks(lane.text, route)) continue;
    size_t lo = 1, hi = lane.text.size();  // the shortest blocking prefix
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (blocks(std::string_view(lane.text).substr(0, mid), route))
        hi = mid;
      else
        lo = mid + 1;
    }
    first = std::min<size_t>(first, lane.owner[lo - 1]);
  }
  return first;
}

void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (b < 0x20) {
      out += "\\u00";
      out += kHex[b >> 4];
      out += kHex[b & 15];
    } else {
      out += c;
    }
  }
}

// The same answer, each piece of generated text cut into pieces of `step` bytes (at UTF-8
// character boundaries: the text was valid JSON) sent as chunks of their own; [DONE] and
// events that are not JSON objects stay as they are.
std::vector<std::string> resplit(const std::vector<std::string>& events, size_t step) {
  static CompletionChunkParser parser(kMaxEvent);
  static GeneratedText text;
  std::vector<std::string> out;
  for (const std::string& data : events) {
    CompletionChunk chunk;
    if (data == "[DONE]" || data.empty() || !parser.parse(data, data.size(), chunk, &text)) {
      out.push_back(data);
      continue;
    }
    if (text.pieces.empty()) out.push_back(data);  // role, finish_reason, usage
    for (const OutputPiece& p : text.pieces) {
      const std::string_view piece = text.piece(p);
      for (size_t at = 0; at < piece.size();) {
        size_t n = std::min(step, piece.size() - at);
        while (at + n < piece.size() && (static_cast<unsigned char>(piece[at + n]) & 0xc0) == 0x80)
          ++n;
        std::string e = R"({"choices":[{"index":)" + std::to_string(p.choice) + R"(,"delta":{)";
        switch (p.channel) {
          case OutputChannel::kContent:
            e += R"("content":")";
            break;
          case OutputChannel::kRefusal:
            e += R"("refusal":")";
            break;
          case OutputChannel::kReasoning:
            e += R"("reasoning_content":")";
            break;
          case OutputChannel::kToolArguments:
            e += R"("tool_calls":[{"index":)" + std::to_string(p.tool) +
                 R"(,"function":{"arguments":")";
            break;
        }
        appendJsonString(e, piece.substr(at, n));
        e += p.channel == OutputChannel::kToolArguments ? "\"}}]}}]}" : "\"}}]}";
        out.push_back(std::move(e));
        at += n;
      }
    }
  }
  return out;
}

}  // namespace

void checkWhole(std::string_view body, int route) {
  static CompletionScan scan;
  static CompletionChunkParser parser(kMaxEvent), reference(kMaxEvent);
  static GeneratedText text;
  Sets& s = sets();
  Matches m;
  scan.start(s.stream.get(), s.stream_scratch.forSet(*s.stream), route);
  const bool blocked = scan.scanWhole(body, body.size(), parser, m);
  CompletionChunk chunk;
  std::string_view all = body;
  if (reference.parse(body, body.size(), chunk, &text)) {
    if (text.ambiguous) {  // unreadable: refused whole
      if (!blocked) std::abort();
      return;
    }
    all = text.bytes;
    if (!all.empty()) all.remove_suffix(1);
  }
  if (blocked != (!all.empty() && blocks(all, route))) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > kMaxInput) return 0;
  const size_t step = 1 + data[0] % 8;
  const int route = data[1] & 1;
  const std::vector<std::string> events = eventsOf(dpuguard::fuzz::asText(data + 2, size - 2));
  const size_t cut = scanned(events, route, nullptr);
  if (cut != expected(events, route)) std::abort();
  const std::vector<std::string> again = resplit(events, step);
  const size_t cut_again = scanned(again, route, nullptr);
  if (cut_again != expected(again, route)) std::abort();
  // The re-split answer is rebuilt from the text read, so a field given twice is not in it.
  const bool unreadable = cut < events.size() && ambiguous(events[cut]);
  if (!unreadable && (cut < events.size()) != (cut_again < again.size())) std::abort();
  for (size_t i = 0; i < events.size() && i < 4; ++i) checkWhole(events[i], route);
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  if (input.size() < 2) return "empty";
  const int route = input[1] & 1;
  const std::vector<std::string> events = eventsOf(input.substr(2));
  std::string rule;
  const size_t cut = scanned(events, route, &rule);
  const std::string route_text =
      " route=" + std::to_string(route) + " events=" + std::to_string(events.size());
  if (cut == events.size()) return "accepted:passed" + route_text;
  return "rejected:" + rule + " cut-before-event=" + std::to_string(cut + 1) + route_text;
}
