// MessageParser: incremental HTTP/1.1 request or response parser. llhttp 8.1.0 (strict mode)
// does the tokenizing; this layer adds limits, our own validation and a pause after every
// head and every message so the caller decides, message by message, what happens next.
//
//   MessageParser p(MessageParser::Kind::kRequest, limits);
//   ParseResult r = p.feed(bytes, sink);   // kHeadComplete -> p.head() is valid; feed again
//
// It never allocates and never throws. Views in head() point into the caller's buffer.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parsers/http1/body_sink.h"
#include "parsers/http1/limits.h"
#include "parsers/http1/message_head.h"
#include "parsers/http1/parse_error.h"

namespace dpuguard::http1 {

enum class ParseStatus : uint8_t {
  kNeedMore,         // all of `data` consumed; the message is not finished
  kHeadComplete,     // stopped right after the head; head() is valid until the next message
  kMessageComplete,  // stopped right after the end of a message; bytes after it are not consumed
  kError,            // see error / error_offset; the parser is dead until reset()
};

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  size_t consumed = 0;        // bytes of this call's `data` that were used
  ParseError error = ParseError::kNone;
  size_t error_offset = 0;    // offset from the message's first byte where the error was seen
};

class MessageParser {
 public:
  enum class Kind : uint8_t { kRequest, kResponse };

  MessageParser(Kind kind, const Limits& limits);
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  // Feeds the next bytes of the stream; body bytes go to `sink` as they are decoded.
  // Contract: from a message's first byte until kHeadComplete, bytes already fed stay where
  // they are in memory (head() views point at them) and each piece of one token continues the
  // previous piece contiguously; violating it yields kDiscontiguousInput, never a bad view.
  // Returns kHeadComplete / kMessageComplete with `consumed` <= data.size(): feed the rest
  // in the next call.
  ParseResult feed(std::string_view data, BodySink& sink);

  // The peer closed its side. kMessageComplete if that ends a close-delimited body,
  // kNeedMore if no message was in progress, kError (kTruncated) otherwise.
  ParseResult finish(BodySink& sink);

  // Responses: whether the response about to be parsed answers a HEAD request (no body).
  void setHeadRequest(bool head_request) { head_request_ = head_request; }

  // New limits take effect at the next message.
  void setLimits(const Limits& limits) { limits_ = limits; }

  // Forgets everything, including a pending error; ready for a new stream.
  void reset();

  const MessageHead& head() const { return head_; }
  bool inMessage() const { return state_ != State::kIdle; }
  // Inside a head: bytes already fed must not move (head() views will point at them).
  bool inHead() const { return state_ == State::kHead; }

 private:
  enum class State : uint8_t { kIdle, kHead, kBody };

  static int onMessageBegin(llhttp_t* p);
  static int onMethod(llhttp_t* p, const char* at, size_t len);
  static int onUrl(llhttp_t* p, const char* at, size_t len);
  static int onStatus(llhttp_t* p, const char* at, size_t len);
  static int onHeaderField(llhttp_t* p, const char* at, size_t len);
  static int onHeaderFieldComplete(llhttp_t* p);
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int onHeaderValueComplete(llhttp_t* p);
  static int onHeadersComplete(llhttp_t* p);
  static int onBody(llhttp_t* p, const char* at, size_t len);
  static int onChunkHeader(llhttp_t* p);
  static int onChunkComplete(llhttp_t* p);
  static int onMessageComplete(llhttp_t* p);

  int fail(ParseError e);
  ParseResult errorResult(std::string_view data, const char* pos);
  void startMessage();

  llhttp_t llhttp_{};
  llhttp_settings_t settings_{};
  Kind kind_;
  Limits limits_;
  Limits message_limits_;  // limits_ as they were when the current message began
  State state_ = State::kIdle;
  bool paused_ = false;
  bool dead_ = false;
  bool head_request_ = false;
  ParseError error_ = ParseError::kNone;
  ParseError dead_error_ = ParseError::kNone;

  BodySink* sink_ = nullptr;
  uint64_t message_bytes_ = 0;
  uint32_t head_bytes_ = 0;

  // Header assembly state.
  bool field_open_ = false;
  bool value_open_ = false;
  bool value_seen_ = false;
  uint32_t header_count_ = 0;
  HeaderField headers_[kMaxHeadersCapacity];
  MessageHead head_;
};

}  // namespace dpuguard::http1
