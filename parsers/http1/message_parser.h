// MessageParser: incremental, validating HTTP/1.1 request or response parser.
//
// Three layers, each a line of defence on its own (HTTP_HARDENING.md):
//   1. HeadScanner sees every head and trailer byte first: CRLF-only lines, no CTL/NUL,
//      no obs-fold, no empty field name, a well-formed request line. MethodGate and
//      ChunkLineScanner read what llhttp 8.1.0 gets wrong in both directions (unregistered
//      methods, chunk-size lines) and hand llhttp a stand-in it reads correctly.
//   2. llhttp 8.1.0 in strict mode tokenizes what passed the scanner, and frames bodies.
//   3. Field and head rules (field_rules.h) refuse ambiguous framing, routing and
//      connection-control fields: duplicate or malformed Content-Length, anything but a
//      single `chunked`, CL with TE, missing/duplicate/mismatched Host, h2c, and so on.
//      Content-Length is parsed here, not by llhttp, which is told the length to frame.
// Every rejection has its own ParseError and the byte offset where it was detected.
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
#include "parsers/http1/chunk_line_scanner.h"
#include "parsers/http1/field_rules.h"
#include "parsers/http1/head_scanner.h"
#include "parsers/http1/header_block.h"
#include "parsers/http1/limits.h"
#include "parsers/http1/message_head.h"
#include "parsers/http1/method_gate.h"
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
  uint64_t error_offset = 0;  // offset from the message's first byte where the error was seen
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
  // Body and trailer bytes may move or be reused between calls: nothing points at them.
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
  // Tightens the body-phase limits (chunk extensions, trailers) of the current message,
  // e.g. to a route's limits once the head has been routed.
  void tightenBodyLimits(const Limits& limits);

  // Forgets everything, including a pending error; ready for a new stream.
  void reset();

  // Between messages: gives the header-field storage back (to a per-thread cache), so an idle
  // connection holds none; head() is empty afterwards. No-op inside a message.
  void releaseStorage();

  const MessageHead& head() const { return head_; }
  bool inMessage() const { return state_ != State::kIdle || section_bytes_ > 0; }
  // Inside a head: bytes already fed must not move (head() views will point at them).
  bool inHead() const { return state_ == State::kHead || (state_ == State::kIdle && section_bytes_ > 0); }

 private:
  enum class State : uint8_t { kIdle, kHead, kBody, kTrailers };
  enum class Pause : uint8_t { kNone, kHead, kTrailers, kMessage };

  static int onMessageBegin(llhttp_t* p);
  static int onMethodComplete(llhttp_t* p);
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

  // Records `e` detected at `at` (a byte of the current message) and stops llhttp.
  int fail(ParseError e, const char* at = nullptr);
  ParseResult errorResult(uint64_t offset);
  ParseResult dead() const;
  // Runs llhttp over [p, p + n), bytes at message offset `offset`.
  llhttp_errno_t execute(const char* p, size_t n, uint64_t offset);
  // The error result for llhttp's `rc` (or for what a callback recorded with fail()).
  ParseResult llhttpError(llhttp_errno_t rc);
  // A chunked body: a chunk-size line (ChunkLineScanner) or chunk data and its CRLF (llhttp).
  // Sets `done` with the result to return, else leaves it and advances `off`.
  ParseResult chunkedBodyStep(std::string_view rest, size_t& off, bool& done);
  void startTrailers();
  void prepareNextMessage();
  uint64_t offsetOf(const char* at) const;
  uint32_t sectionBudget() const;
  int trailerFieldComplete();
  int fieldComplete(HeaderField& f);
  int valueComplete(HeaderField& f);
  ParseError checkRequestHead();
  ParseError checkResponseHead(llhttp_t* p);

  llhttp_t llhttp_{};
  llhttp_settings_t settings_{};
  HeadScanner scanner_;
  Kind kind_;
  Limits limits_;
  Limits message_limits_;  // limits_ as they were when the current message began
  State state_ = State::kIdle;
  Pause pause_ = Pause::kNone;
  bool paused_ = false;
  bool dead_ = false;
  bool head_request_ = false;
  ParseError error_ = ParseError::kNone;
  const char* error_at_ = nullptr;
  ParseError dead_error_ = ParseError::kNone;
  uint64_t dead_offset_ = 0;

  BodySink* sink_ = nullptr;  // set by feed()/finish() before every llhttp call
  const char* feed_base_ = nullptr;  // first byte of the segment llhttp is executing
  uint64_t feed_offset_ = 0;         // its offset in the message
  uint64_t message_bytes_ = 0;
  uint32_t section_bytes_ = 0;  // bytes of the current head or trailer section

  // Header assembly and per-message validation state.
  bool field_open_ = false;
  bool value_open_ = false;
  FieldKind field_kind_ = FieldKind::kOther;
  bool seen_content_length_ = false;
  bool seen_transfer_encoding_ = false;
  bool seen_host_ = false;
  bool closed_ = false;  // the last message ended the connection (llhttp refuses what follows)
  uint32_t header_count_ = 0;
  bool content_length_parsed_ = false;
  uint64_t content_length_ = 0;   // parseContentLength's value, handed to llhttp
  MethodGate method_;             // requests: the method, until llhttp has read it
  ChunkLineScanner chunk_line_;   // the chunk-size line being read
  uint64_t chunk_data_left_ = 0;  // then the chunk's data bytes not yet through llhttp,
  uint8_t chunk_crlf_left_ = 0;   // and of the CRLF after them
  // Trailer field names are classified from a copy: trailer bytes may move between feeds.
  char trailer_name_[20] = {};
  uint32_t trailer_name_len_ = 0;
  HeaderBlock headers_;  // taken at a head's first field, given back by releaseStorage()
  MessageHead head_;
};

}  // namespace dpuguard::http1
