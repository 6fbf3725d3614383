// EventStreamParser: incremental parser for text/event-stream (WHATWG HTML §9.2.6, "Server-
// sent events"), fed the decoded response body as it arrives. It stops after each complete
// event so the caller can act on it (count tokens, cut the stream) at an event boundary.
// Bounded: an event whose data exceeds max_event_bytes is an error, never a growing buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dpuguard::sse {

enum class SseStatus : uint8_t {
  kNeedMore,  // all input consumed, no event completed
  kEvent,     // an event completed at input[consumed - 1]; read it with event()
  kError,     // a line or an event larger than the limit; the stream cannot be followed
};

struct SseResult {
  SseStatus status = SseStatus::kNeedMore;
  size_t consumed = 0;
};

struct SseEvent {
  std::string_view type;  // "event:" field; empty means "message"
  std::string_view data;  // "data:" lines joined with '\n' (the last newline removed)
};

class EventStreamParser {
 public:
  explicit EventStreamParser(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

  // Consumes `in` up to and including the blank line that ends the next event (kEvent), or
  // all of it (kNeedMore). After kError every later call returns kError.
  SseResult feed(std::string_view in);
  // The event of the last kEvent; views valid until the next feed() or reset().
  const SseEvent& event() const { return event_; }
  // Bytes of a partial line or event held since the last event boundary.
  size_t pending() const { return line_.size() + (pending_clear_ ? 0 : data_.size()); }
  void reset();

 private:
  bool endLine();  // processes line_; true if it was the blank line that dispatches an event

  size_t max_event_bytes_;
  std::string line_;  // the current line, without its terminator
  std::string data_;
  std::string type_;
  SseEvent event_;
  bool after_cr_ = false;   // a CR ended the last line: an LF right after it belongs to it
  bool started_ = false;    // past a possible leading BOM
  size_t bom_matched_ = 0;
  bool pending_clear_ = false;  // event_ views data_/type_ until the next feed
  bool has_data_ = false;   // a data field was seen in this event
  bool failed_ = false;
};

}  // namespace dpuguard::sse
