// CompletionScan: lanes of stream-mode scans over generated text, every write >= 16 bytes.
#include "proxy/inspect/completion_scan.h"

#include <hs/hs.h>

#include <algorithm>
#include <cstring>

namespace dpuguard::proxy::inspect {
namespace {

constexpr uint8_t kRawChannel = 0xff;        // an event that is not a JSON object, scanned as it is
constexpr size_t kKeepCapacity = 64 * 1024;  // buffers larger than this are released after use

struct CompletionMatch {
  const SignatureSet* set;
  const std::vector<uint32_t>* ids;
  int route;
  Matches* matches;
  bool* blocked;
};

int onCompletionMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
                      unsigned int /*flags*/, void* ctx) {
  auto* c = static_cast<CompletionMatch*>(ctx);
  const uint32_t index = (*c->ids)[id];
  const Signature& s = c->set->signatures()[index];
  if (s.route >= 0 && s.route != c->route) return 0;  // another route's canary
  const bool blocks = s.action == SignatureAction::kBlock;
  c->matches->add(index, blocks);
  if (blocks) *c->blocked = true;
  return 0;  // keep scanning: every rule that matches is reported
}

void trim(std::string& s) {
  if (s.capacity() > kKeepCapacity) std::string().swap(s);
}

}  // namespace

CompletionScan::~CompletionScan() {
  closeLanes();
}

void CompletionScan::closeLanes() {
  for (Lane& lane : lanes_) {
    if (lane.stream != nullptr) hs_close_stream(lane.stream, nullptr, nullptr, nullptr);
    if (lane.checkpoint != nullptr) hs_close_stream(lane.checkpoint, nullptr, nullptr, nullptr);
    lane = Lane{};
  }
}

void CompletionScan::start(const SignatureSet* set, hs_scratch* scratch, int route) {
  const bool on =
      set != nullptr && set->database(Where::kCompletion) != nullptr && set->scansCompletion(route);
  set_ = on ? set : nullptr;
  scratch_ = scratch;
  route_ = route;
  blocked_ = false;
  ended_ = false;
  scanned_bytes_ = 0;
  short_writes_ = 0;
  if (set_ != nullptr && opened_for_ != set_->serial()) {  // a new snapshot: new streams, lazily
    closeLanes();  // frees only: the old database may be gone
    opened_for_ = set_->serial();
  }
  for (Lane& lane : lanes_) lane.used = false;  // reset on first use in this answer
}

bool CompletionScan::openLane(Lane& lane) {
  hs_database* db = set_->database(Where::kCompletion);
  if (lane.stream == nullptr && hs_open_stream(db, 0, &lane.stream) != HS_SUCCESS)
    lane.stream = nullptr;
  if (lane.checkpoint == nullptr && hs_open_stream(db, 0, &lane.checkpoint) != HS_SUCCESS)
    lane.checkpoint = nullptr;
  if (lane.stream == nullptr || lane.checkpoint == nullptr) return false;
  if (lane.tail_n != 0 || !lane.from_start) {  // text of an earlier answer: back to the start
    hs_reset_stream(lane.stream, 0, nullptr, nullptr, nullptr);
    hs_reset_stream(lane.checkpoint, 0, nullptr, nullptr, nullptr);
  }
  lane.tail_n = 0;
  lane.from_start = true;
  lane.used = true;
  return true;
}

void CompletionScan::write(hs_stream* stream, std::string_view data, bool from_start, Matches& m) {
  if (data.size() < kMinScanWrite && !from_start) ++short_writes_;
  scanned_bytes_ += data.size();
  CompletionMatch ctx{set_, &set_->ids_[static_cast<size_t>(Where::kCompletion)], route_, &m,
                      &blocked_};
  if (hs_scan_stream(stream, data.data(), static_cast<unsigned>(data.size()), 0, scratch_,
                     &onCompletionMatch, &ctx) != HS_SUCCESS) {
    blocked_ = true;  // not scanned (a scratch not fitted to the set): nothing passes unscanned
  }
}

void CompletionScan::copy(hs_stream* to, const hs_stream* from) {
  if (hs_reset_and_copy_stream(to, from, nullptr, nullptr, nullptr) != HS_SUCCESS) blocked_ = true;
}

// Invariant, per lane: `checkpoint` is the state before the last tail_n bytes of text (kept in
// `tail`), `stream` the state after them, and tail_n >= kMinScanWrite unless the checkpoint is
// the start of the text (from_start). A short text is written after the tail, from the
// checkpoint, so the write is at least kMinScanWrite bytes or starts at the beginning.
void CompletionScan::feedLane(Lane& lane, std::string_view p, Matches& m) {
  constexpr size_t k = kMinScanWrite;
  if (p.size() >= 2 * k) {  // two writes of >= k, the checkpoint between them
    write(lane.stream, p.substr(0, p.size() - k), lane.from_start && lane.tail_n == 0, m);
    copy(lane.checkpoint, lane.stream);
    write(lane.stream, p.substr(p.size() - k), false, m);
    std::memcpy(lane.tail.data(), p.data() + p.size() - k, k);
    lane.tail_n = k;
    lane.from_start = false;
    return;
  }
  if (p.size() >= k) {  // one write; the checkpoint moves to where it starts
    copy(lane.checkpoint, lane.stream);
    lane.from_start = lane.from_start && lane.tail_n == 0;
    write(lane.stream, p, lane.from_start, m);
    std::memcpy(lane.tail.data(), p.data(), p.size());
    lane.tail_n = p.size();
    return;
  }
  // Short: written again behind the tail, from the checkpoint.
  std::array<char, 3 * k> data;
  std::memcpy(data.data(), lane.tail.data(), lane.tail_n);
  std::memcpy(data.data() + lane.tail_n, p.data(), p.size());
  const size_t n = lane.tail_n + p.size();
  if (lane.tail_n > 0) copy(lane.stream, lane.checkpoint);
  if (n < 2 * k) {
    write(lane.stream, std::string_view(data.data(), n), lane.from_start, m);
    std::memcpy(lane.tail.data(), data.data(), n);
    lane.tail_n = n;
    return;
  }
  write(lane.stream, std::string_view(data.data(), n - k), lane.from_start, m);
  copy(lane.checkpoint, lane.stream);
  write(lane.stream, std::string_view(data.data() + n - k, k), false, m);
  std::memcpy(lane.tail.data(), data.data() + n - k, k);
  lane.tail_n = k;
  lane.from_start = false;
}

void CompletionScan::feedPiece(size_t index, PieceKey key, std::string_view piece, Matches& m) {
  if (piece.empty() || blocked_) return;
  Lane& lane = lanes_[std::min(index, kMaxLanes - 1)];
  ended_ = false;
  if (!lane.used) {
    if (!openLane(lane)) {  // out of memory: nothing can be scanned, so nothing passes
      blocked_ = true;
      return;
    }
    lane.last = key;
    feedLane(lane, piece, m);
    return;
  }
  if (lane.last == key) return feedLane(lane, piece, m);
  lane.last = key;
  piece_.assign(1, '\0').append(piece);
  feedLane(lane, piece_, m);
}

void CompletionScan::endText(Matches& m) {
  CompletionMatch ctx{set_, &set_->ids_[static_cast<size_t>(Where::kCompletion)], route_, &m,
                      &blocked_};
  for (Lane& lane : lanes_) {
    if (!lane.used) continue;
    // Reports the end-of-data matches.
    if (hs_reset_stream(lane.stream, 0, scratch_, &onCompletionMatch, &ctx) != HS_SUCCESS)
      blocked_ = true;
    hs_reset_stream(lane.checkpoint, 0, nullptr, nullptr, nullptr);
    lane.tail_n = 0;
    lane.from_start = true;
    lane.used = false;
  }
  ended_ = true;
}

EventVerdict CompletionScan::onEventText(std::string_view data, const json::GeneratedText* text,
                                         Matches& m) {
  if (!active()) return EventVerdict::kForward;
  if (blocked_) return EventVerdict::kBlock;
  if (text != nullptr && text->ambiguous) {  // the client may read other text than we would
    blocked_ = true;
    return EventVerdict::kBlock;
  }
  if (text != nullptr) {
    for (const json::OutputPiece& p : text->pieces) {
      feedPiece(p.choice, PieceKey{p.choice, p.tool, static_cast<uint8_t>(p.channel)},
                text->piece(p), m);
    }
  } else if (data == "[DONE]") {
    endText(m);
  } else {
    feedPiece(0, PieceKey{0, 0, kRawChannel}, data, m);
  }
  trim(piece_);
  return blocked_ ? EventVerdict::kBlock : EventVerdict::kForward;
}

EventVerdict CompletionScan::onEvent(std::string_view data, json::CompletionChunkParser& parser,
                                     Matches& m) {
  if (!active()) return EventVerdict::kForward;
  if (blocked_) return EventVerdict::kBlock;
  json::CompletionChunk chunk;
  const bool parsed =
      !data.empty() && data != "[DONE]" && parser.parse(data, data.size(), chunk, &text_);
  return onEventText(data, parsed ? &text_ : nullptr, m);
}

bool CompletionScan::finish(Matches& m) {
  if (!active()) return false;
  if (!ended_ && !blocked_) endText(m);
  return blocked_;
}

bool CompletionScan::scanWholeText(std::string_view body, const json::GeneratedText* text,
                                   Matches& m) {
  if (!active()) return false;
  if (blocked_) return true;
  if (text != nullptr && text->ambiguous) {
    blocked_ = true;
    return true;
  }
  // The pieces, NUL-separated (the last NUL dropped, so `$` still means the end), or the body.
  std::string_view all = text != nullptr ? std::string_view(text->bytes) : body;
  if (text != nullptr && !all.empty()) all.remove_suffix(1);
  if (all.empty()) return false;
  Lane& lane = lanes_[0];
  if (!lane.used && !openLane(lane)) {
    blocked_ = true;
    return true;
  }
  write(lane.stream, all, true, m);  // one write from the start
  endText(m);
  return blocked_;
}

bool CompletionScan::scanWhole(std::string_view body, size_t capacity,
                               json::CompletionChunkParser& parser, Matches& m) {
  if (!active()) return false;
  json::CompletionChunk chunk;
  const bool parsed = parser.parse(body, capacity, chunk, &text_);
  const bool blocked = scanWholeText(body, parsed ? &text_ : nullptr, m);
  if (text_.bytes.capacity() > kKeepCapacity) text_ = json::GeneratedText{};
  return blocked;
}

Signature canarySignature(std::string_view route, int route_index, size_t n,
                          std::string_view canary) {
  static constexpr char kHex[] = "0123456789abcdef";
  Signature s;
  s.id = "dpg-leak-" + std::string(route) + "-" + std::to_string(n);
  s.pattern.reserve(canary.size() * 4);
  for (const char ch : canary) {
    const auto b = static_cast<unsigned char>(ch);
    s.pattern += "\\x";
    s.pattern += kHex[b >> 4];
    s.pattern += kHex[b & 15];
  }
  s.where = static_cast<uint8_t>(1u << static_cast<unsigned>(Where::kCompletion));
  s.action = SignatureAction::kBlock;
  s.severity = "critical";
  s.caseless = false;
  s.route = route_index;
  return s;
}

}  // namespace dpuguard::proxy::inspect
