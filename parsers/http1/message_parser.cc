// MessageParser: HeadScanner -> llhttp (strict) -> field and head rules -> MessageHead + BodySink.
#include "parsers/http1/message_parser.h"

#include <algorithm>

namespace dpuguard::http1 {
namespace {

static_assert(LLHTTP_VERSION_MAJOR == 8 && LLHTTP_VERSION_MINOR == 1,
              "header_state values below are llhttp 8.1's (llhttp.c, load_header_state)");
constexpr uint8_t kLlhttpHeaderGeneral = 0;
constexpr uint8_t kLlhttpHeaderContentLength = 2;

MessageParser* self(llhttp_t* p) { return static_cast<MessageParser*>(p->data); }

// Appends llhttp's next piece of a token to `cur`; false if it does not continue `cur` in
// memory (the caller moved bytes mid-head, or the token was interrupted by other bytes).
bool extend(std::string_view& cur, const char* at, size_t len) {
  if (cur.data() == nullptr) {
    cur = std::string_view(at, len);
    return true;
  }
  if (cur.data() + cur.size() != at) return false;
  cur = std::string_view(cur.data(), cur.size() + len);
  return true;
}

ParseError fromLlhttp(llhttp_errno_t e) {
  switch (e) {
    case HPE_INVALID_METHOD: return ParseError::kInvalidMethod;
    case HPE_INVALID_URL: return ParseError::kInvalidTarget;
    case HPE_INVALID_VERSION: return ParseError::kInvalidVersion;
    case HPE_INVALID_HEADER_TOKEN: return ParseError::kInvalidHeaderToken;
    case HPE_INVALID_CONSTANT: return ParseError::kInvalidConstant;
    case HPE_INVALID_STATUS: return ParseError::kInvalidStatus;
    case HPE_INVALID_CONTENT_LENGTH: return ParseError::kInvalidContentLength;
    case HPE_UNEXPECTED_CONTENT_LENGTH: return ParseError::kContentLengthWithTransferEncoding;
    case HPE_INVALID_TRANSFER_ENCODING: return ParseError::kInvalidTransferEncoding;
    case HPE_INVALID_CHUNK_SIZE: return ParseError::kInvalidChunkSize;
    case HPE_CR_EXPECTED:
    case HPE_LF_EXPECTED: return ParseError::kLineEnding;
    case HPE_UNEXPECTED_SPACE: return ParseError::kUnexpectedSpace;
    case HPE_STRICT: return ParseError::kStrict;
    case HPE_CLOSED_CONNECTION: return ParseError::kClosedConnection;
    case HPE_INVALID_EOF_STATE: return ParseError::kTruncated;
    case HPE_PAUSED_H2_UPGRADE: return ParseError::kUnsupportedVersion;  // the HTTP/2 preface
    default: return ParseError::kOther;
  }
}

// llhttp reports some body-framing violations as generic strict errors; name them by state.
ParseError refine(ParseError e, bool in_body) {
  return (in_body && e == ParseError::kStrict) ? ParseError::kInvalidChunk : e;
}

}  // namespace

MessageParser::MessageParser(Kind kind, const Limits& limits)
    : kind_(kind), limits_(limits), message_limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = &MessageParser::onMessageBegin;
  settings_.on_method_complete = &MessageParser::onMethodComplete;
  settings_.on_url = &MessageParser::onUrl;
  settings_.on_status = &MessageParser::onStatus;
  settings_.on_header_field = &MessageParser::onHeaderField;
  settings_.on_header_field_complete = &MessageParser::onHeaderFieldComplete;
  settings_.on_header_value = &MessageParser::onHeaderValue;
  settings_.on_header_value_complete = &MessageParser::onHeaderValueComplete;
  settings_.on_headers_complete = &MessageParser::onHeadersComplete;
  settings_.on_body = &MessageParser::onBody;
  settings_.on_chunk_header = &MessageParser::onChunkHeader;
  settings_.on_chunk_complete = &MessageParser::onChunkComplete;
  settings_.on_message_complete = &MessageParser::onMessageComplete;
  reset();
}

void MessageParser::reset() {
  llhttp_init(&llhttp_, kind_ == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE, &settings_);
  llhttp_.data = this;
  paused_ = false;
  dead_ = false;
  dead_error_ = ParseError::kNone;
  dead_offset_ = 0;
  closed_ = false;
  prepareNextMessage();
}

void MessageParser::releaseStorage() {
  if (inMessage()) return;
  head_ = MessageHead{};
  headers_.release();
}

void MessageParser::prepareNextMessage() {
  state_ = State::kIdle;
  pause_ = Pause::kNone;
  message_limits_ = limits_;
  message_bytes_ = 0;
  section_bytes_ = 0;
  scanner_.start(kind_ == Kind::kRequest ? HeadScanner::Section::kRequestHead : HeadScanner::Section::kResponseHead,
                 message_limits_);
  // After a message that closes the connection, llhttp refuses the next byte itself.
  method_.start(kind_ == Kind::kRequest && !closed_);
  chunk_line_.start();
  chunk_data_left_ = 0;
  chunk_crlf_left_ = 0;
}

void MessageParser::startTrailers() {
  state_ = State::kTrailers;
  section_bytes_ = 0;
  header_count_ = 0;
  scanner_.start(HeadScanner::Section::kTrailers, message_limits_);
}

void MessageParser::tightenBodyLimits(const Limits& limits) {
  message_limits_.max_chunk_ext_bytes = std::min(message_limits_.max_chunk_ext_bytes, limits.max_chunk_ext_bytes);
  message_limits_.max_trailer_bytes = std::min(message_limits_.max_trailer_bytes, limits.max_trailer_bytes);
}

uint64_t MessageParser::offsetOf(const char* at) const {
  // Head bytes are contiguous in memory (feed contract), so `at` may lie before feed_base_;
  // unsigned wrap-around gives the right signed distance without comparing unrelated pointers.
  return feed_offset_ + (reinterpret_cast<uintptr_t>(at) - reinterpret_cast<uintptr_t>(feed_base_));
}

uint32_t MessageParser::sectionBudget() const {
  const uint32_t cap = state_ == State::kTrailers ? message_limits_.max_trailer_bytes : message_limits_.max_header_bytes;
  return cap - std::min(section_bytes_, cap);
}

int MessageParser::fail(ParseError e, const char* at) {
  error_ = e;
  error_at_ = at;
  return -1;
}

ParseResult MessageParser::errorResult(uint64_t offset) {
  dead_ = true;
  dead_error_ = error_;
  dead_offset_ = offset;
  return dead();
}

ParseResult MessageParser::dead() const {
  return ParseResult{ParseStatus::kError, 0, dead_error_, dead_offset_};
}

llhttp_errno_t MessageParser::execute(const char* p, size_t n, uint64_t offset) {
  feed_base_ = p;
  feed_offset_ = offset;
  error_ = ParseError::kNone;
  error_at_ = nullptr;
  return llhttp_execute(&llhttp_, p, n);
}

ParseResult MessageParser::llhttpError(llhttp_errno_t rc) {
  const char* pos = llhttp_get_error_pos(&llhttp_);
  if (error_ == ParseError::kNone) {
    // A pause where none was expected would be a bug of ours: never parse on after it.
    error_ = rc == HPE_PAUSED
                 ? ParseError::kOther
                 : refine(fromLlhttp(rc), state_ != State::kHead && state_ != State::kIdle);
  }
  return errorResult(offsetOf(error_at_ != nullptr ? error_at_ : pos));
}

ParseResult MessageParser::chunkedBodyStep(std::string_view rest, size_t& off, bool& done) {
  done = true;
  if (chunk_data_left_ == 0 && chunk_crlf_left_ == 0) {
    // A chunk-size line is ours to read; llhttp reads its canonical form, no extensions.
    const ChunkLineScanner::Scan line = chunk_line_.scan(rest, message_limits_.max_chunk_ext_bytes);
    message_bytes_ += line.length;
    off += line.length;
    if (line.error != ParseError::kNone) {
      error_ = line.error;
      return errorResult(message_bytes_);
    }
    if (!line.complete) return ParseResult{ParseStatus::kNeedMore, off, ParseError::kNone, 0};
    const std::string_view canonical = chunk_line_.canonicalLine();
    const uint64_t size = chunk_line_.size();
    chunk_line_.start();
    const llhttp_errno_t rc = execute(canonical.data(), canonical.size(), message_bytes_ - 1);
    if (rc == HPE_OK && size != 0) {
      chunk_data_left_ = size;
      chunk_crlf_left_ = 2;
      done = false;
      return {};
    }
    // The last chunk: onChunkHeader paused at the end of the line; the trailers come next.
    if (rc != HPE_PAUSED || pause_ != Pause::kTrailers ||
        llhttp_get_error_pos(&llhttp_) != canonical.data() + canonical.size()) {
      return llhttpError(rc == HPE_OK ? HPE_PAUSED : rc);
    }
    pause_ = Pause::kNone;
    llhttp_resume(&llhttp_);
    startTrailers();
    done = false;
    return {};
  }
  // Chunk data and the CRLF after it go to llhttp from the caller's bytes (views for the sink).
  const size_t data_n = static_cast<size_t>(std::min<uint64_t>(rest.size(), chunk_data_left_));
  const size_t crlf_n = std::min<size_t>(rest.size() - data_n, chunk_crlf_left_);
  if (data_n + crlf_n == 0) return ParseResult{ParseStatus::kNeedMore, off, ParseError::kNone, 0};
  // No callback pauses inside chunk data: anything but HPE_OK is an error.
  if (const llhttp_errno_t rc = execute(rest.data(), data_n + crlf_n, message_bytes_);
      rc != HPE_OK) {
    return llhttpError(rc);
  }
  message_bytes_ += data_n + crlf_n;
  off += data_n + crlf_n;
  chunk_data_left_ -= data_n;
  chunk_crlf_left_ -= static_cast<uint8_t>(crlf_n);
  done = false;
  return {};
}

ParseResult MessageParser::feed(std::string_view data, BodySink& sink) {
  // llhttp computes data + len: never hand it a null pointer, even for zero bytes.
  static constexpr char kNoBytes[1] = {0};
  if (data.data() == nullptr) data = std::string_view(kNoBytes, 0);
  if (dead_) return dead();
  if (paused_) {
    llhttp_resume(&llhttp_);
    paused_ = false;
  }
  if (state_ == State::kIdle && section_bytes_ == 0) prepareNextMessage();  // setLimits() may have run
  sink_ = &sink;
  size_t off = 0;
  while (true) {
    const std::string_view rest = data.substr(off);
    if (state_ == State::kBody && head_.chunked) {
      bool done = false;
      const ParseResult r = chunkedBodyStep(rest, off, done);
      if (done) return r;
      continue;
    }
    // Heads and trailer sections pass the scanner first, within their byte budget; a
    // section still open when the budget is spent is too large, however it was split.
    const bool gated = state_ != State::kBody;
    HeadScanner::Scan scan{rest.size(), false, ParseError::kNone};
    bool over_budget = false;
    if (gated) {
      const size_t budget = sectionBudget();
      scan = scanner_.scan(rest.substr(0, std::min(rest.size(), budget)));
      over_budget = scan.error == ParseError::kNone && !scan.complete && rest.size() >= budget;
    }
    // A request's method is held back until its SP has arrived; llhttp then reads it (or a
    // stand-in) before the bytes from the SP on.
    size_t held = 0;
    if (method_.pending()) {
      const MethodGate::Step g = method_.take(rest.substr(0, scan.length), message_bytes_);
      if (g.error != ParseError::kNone) {
        error_ = g.error;
        return errorResult(g.error_offset);
      }
      held = g.length;
      if (g.resolved) {
        const std::string_view m = method_.forLlhttp();
        if (const llhttp_errno_t rc = execute(m.data(), m.size(), method_.methodOffset());
            rc != HPE_OK) {
          return llhttpError(rc);
        }
      }
    }
    const llhttp_errno_t rc =
        execute(rest.data() + held, scan.length - held, message_bytes_ + held);
    if (rc == HPE_OK) {
      message_bytes_ += scan.length;
      if (gated) section_bytes_ += static_cast<uint32_t>(scan.length);
      if (scan.error != ParseError::kNone || scan.complete || over_budget) {
        // A complete section that llhttp did not end would mean the two disagree on framing.
        error_ = scan.error != ParseError::kNone ? scan.error
                 : over_budget ? (state_ == State::kTrailers ? ParseError::kTrailersTooLarge : ParseError::kHeadTooLarge)
                               : ParseError::kOther;
        return errorResult(message_bytes_);
      }
      return ParseResult{ParseStatus::kNeedMore, off + scan.length, ParseError::kNone, 0};
    }
    if (rc != HPE_PAUSED) return llhttpError(rc);
    paused_ = true;
    const size_t used = static_cast<size_t>(llhttp_get_error_pos(&llhttp_) - rest.data());
    message_bytes_ += used;
    if (gated) section_bytes_ += static_cast<uint32_t>(used);
    off += used;
    const Pause pause = pause_;
    pause_ = Pause::kNone;
    if (pause == Pause::kHead) {
      head_.head_bytes = section_bytes_;
      return ParseResult{ParseStatus::kHeadComplete, off, ParseError::kNone, 0};
    }
    if (pause == Pause::kMessage) {
      closed_ = !head_.keep_alive;
      prepareNextMessage();
      return ParseResult{ParseStatus::kMessageComplete, off, ParseError::kNone, 0};
    }
    // Only a chunked body's last chunk pauses for trailers, and that is chunkedBodyStep's.
    error_ = ParseError::kOther;
    return errorResult(message_bytes_);
  }
}

ParseResult MessageParser::finish(BodySink& sink) {
  if (dead_) return dead();
  if (!inMessage()) return ParseResult{};
  if (paused_) {
    llhttp_resume(&llhttp_);
    paused_ = false;
  }
  sink_ = &sink;
  error_ = ParseError::kNone;
  const llhttp_errno_t rc = llhttp_finish(&llhttp_);
  if (state_ == State::kBody && (rc == HPE_PAUSED || rc == HPE_OK) && pause_ == Pause::kMessage) {
    paused_ = rc == HPE_PAUSED;
    closed_ = true;
    prepareNextMessage();
    return ParseResult{ParseStatus::kMessageComplete, 0, ParseError::kNone, 0};
  }
  error_ = ParseError::kTruncated;
  return errorResult(message_bytes_);
}

int MessageParser::onMessageBegin(llhttp_t* p) {
  MessageParser* m = self(p);
  m->state_ = State::kHead;
  m->field_open_ = m->value_open_ = false;
  m->seen_content_length_ = m->seen_transfer_encoding_ = m->seen_host_ = false;
  m->content_length_parsed_ = false;
  m->content_length_ = 0;
  m->header_count_ = 0;
  m->head_ = MessageHead{};
  return 0;
}

int MessageParser::onMethodComplete(llhttp_t* p) {
  // llhttp may have read a stand-in: the method is the bytes MethodGate held back.
  MessageParser* m = self(p);
  m->head_.method = m->method_.method();
  return 0;
}

int MessageParser::onUrl(llhttp_t* p, const char* at, size_t len) {
  MessageParser* m = self(p);
  // Its length limit is HeadScanner's, at the exact byte (callbacks come wherever input was cut).
  return extend(m->head_.target, at, len) ? 0 : m->fail(ParseError::kDiscontiguousInput, at);
}

int MessageParser::onStatus(llhttp_t* p, const char* at, size_t len) {
  MessageParser* m = self(p);
  return extend(m->head_.reason, at, len) ? 0 : m->fail(ParseError::kDiscontiguousInput, at);
}

int MessageParser::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  MessageParser* m = self(p);
  // Name, value and count limits are HeadScanner's; this only guards the array's capacity.
  if (!m->field_open_) {
    if (m->header_count_ >= kMaxHeadersCapacity) return m->fail(ParseError::kTooManyHeaders, at);
    ++m->header_count_;
    m->field_open_ = true;
    m->value_open_ = false;
    if (m->state_ == State::kTrailers) m->trailer_name_len_ = 0;
    else m->headers_.fields()[m->header_count_ - 1] = HeaderField{};
  }
  if (m->state_ == State::kTrailers) {
    // Keep a copy of the first bytes: enough to recognise every forbidden name.
    for (size_t i = 0; i < len; ++i, ++m->trailer_name_len_) {
      if (m->trailer_name_len_ < sizeof(m->trailer_name_)) m->trailer_name_[m->trailer_name_len_] = at[i];
    }
    return 0;
  }
  HeaderField& h = m->headers_.fields()[m->header_count_ - 1];
  return extend(h.name, at, len) ? 0 : m->fail(ParseError::kDiscontiguousInput, at);
}

int MessageParser::onHeaderFieldComplete(llhttp_t* p) {
  MessageParser* m = self(p);
  m->field_open_ = false;
  if (m->state_ == State::kTrailers) return m->trailerFieldComplete();
  return m->fieldComplete(m->headers_.fields()[m->header_count_ - 1]);
}

int MessageParser::trailerFieldComplete() {
  const bool copied_whole = trailer_name_len_ <= sizeof(trailer_name_);
  const FieldKind kind = copied_whole ? classifyField(std::string_view(trailer_name_, trailer_name_len_)) : FieldKind::kOther;
  return forbiddenInTrailers(kind) ? fail(ParseError::kForbiddenTrailerField) : 0;
}

int MessageParser::fieldComplete(HeaderField& f) {
  const FieldMatch match = matchField(f.name);
  if (match.underscore_variant) return fail(ParseError::kUnderscoreFramingField, f.name.data());
  field_kind_ = match.kind;
  switch (field_kind_) {
    case FieldKind::kContentLength:
      if (seen_content_length_) return fail(ParseError::kDuplicateContentLength, f.name.data());
      if (seen_transfer_encoding_) return fail(ParseError::kContentLengthWithTransferEncoding, f.name.data());
      seen_content_length_ = true;
      // llhttp 8.1.0 would read the value itself and refuse an HTAB after the digits (OWS,
      // RFC 9110 §5.6.3). It reads it as an ordinary value instead; parseContentLength is the
      // only reader and onHeadersComplete gives llhttp the length to frame the body with.
      if (llhttp_.header_state != kLlhttpHeaderContentLength) {
        return fail(ParseError::kOther, f.name.data());
      }
      llhttp_.header_state = kLlhttpHeaderGeneral;
      return 0;
    case FieldKind::kTransferEncoding:
      if (seen_transfer_encoding_) return fail(ParseError::kMultipleTransferEncoding, f.name.data());
      if (seen_content_length_) return fail(ParseError::kContentLengthWithTransferEncoding, f.name.data());
      seen_transfer_encoding_ = true;
      return 0;
    case FieldKind::kHost:
      if (kind_ != Kind::kRequest) return 0;
      if (seen_host_) return fail(ParseError::kDuplicateHost, f.name.data());
      seen_host_ = true;
      return 0;
    case FieldKind::kHttp2Settings:
      return kind_ == Kind::kRequest ? fail(ParseError::kH2cUpgrade, f.name.data()) : 0;
    default:
      return 0;
  }
}

int MessageParser::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  MessageParser* m = self(p);
  if (m->state_ == State::kTrailers) {
    m->value_open_ = true;
    return 0;
  }
  HeaderField& h = m->headers_.fields()[m->header_count_ - 1];
  if (!m->value_open_ && h.value.data() != nullptr) return m->fail(ParseError::kObsFold, at);
  m->value_open_ = true;
  return extend(h.value, at, len) ? 0 : m->fail(ParseError::kDiscontiguousInput, at);
}

int MessageParser::onHeaderValueComplete(llhttp_t* p) {
  MessageParser* m = self(p);
  m->value_open_ = false;
  if (m->state_ == State::kTrailers) return 0;
  return m->valueComplete(m->headers_.fields()[m->header_count_ - 1]);
}

int MessageParser::valueComplete(HeaderField& f) {
  // RFC 9110 §5.5: OWS around a value is not part of it (CVE-2019-18802: trailing whitespace).
  f.value = trimOws(f.value);
  const char* at = f.name.data();
  const bool request = kind_ == Kind::kRequest;
  ParseError e = ParseError::kNone;
  switch (field_kind_) {
    case FieldKind::kContentLength:
      e = parseContentLength(f.value, &content_length_);
      content_length_parsed_ = e == ParseError::kNone;
      break;
    case FieldKind::kTransferEncoding: e = checkTransferEncoding(f.value); break;
    case FieldKind::kConnection: e = checkConnection(f.value); break;
    case FieldKind::kUpgrade:
      if (request) e = checkUpgrade(f.value);
      break;
    case FieldKind::kExpect:
      if (request) {
        e = checkExpect(f.value);
        head_.expect_continue = e == ParseError::kNone;
      }
      break;
    case FieldKind::kHost:
      if (request) {
        e = checkHost(f.value);
        head_.host = f.value;
      }
      break;
    default: break;
  }
  return e == ParseError::kNone ? 0 : fail(e, at);
}

ParseError MessageParser::checkRequestHead() {
  MessageHead& h = head_;
  if (seen_transfer_encoding_ && h.version_minor == 0) return ParseError::kTransferEncodingOnHttp10;
  if (h.target.find('#') != std::string_view::npos) return ParseError::kFragmentInTarget;
  const uri::RequestTarget& t = h.request_target = uri::parseRequestTarget(h.target);
  switch (t.form) {
    case uri::RequestTarget::Form::kOrigin: break;
    case uri::RequestTarget::Form::kAbsolute:
      // RFC 9112 §3.2.2 lets the authority win; a proxy that did so while the server behind
      // it trusted Host would route one way and serve another, so they must agree.
      if (seen_host_ && !equalsIgnoreCase(t.authority, h.host)) return ParseError::kHostMismatch;
      if (!seen_host_) h.host = t.authority;  // HTTP/1.0 may omit Host
      break;
    case uri::RequestTarget::Form::kAsterisk:
      if (h.method != "OPTIONS") return ParseError::kInvalidTarget;
      break;
    default: return ParseError::kInvalidTarget;
  }
  if (h.isHttp11() && !seen_host_) return ParseError::kMissingHost;
  // Upgrade is hop-by-hop and this proxy does not tunnel: the request continues as plain
  // HTTP and the forwarder drops Upgrade, so no 101 can legitimately come back.
  h.upgrade = llhttp_.upgrade != 0;
  llhttp_.upgrade = 0;
  return ParseError::kNone;
}

ParseError MessageParser::checkResponseHead(llhttp_t* p) {
  MessageHead& h = head_;
  h.status = p->status_code;
  // RFC 9110 §15: a status code is three digits, 100 to 599 (llhttp 8.1.0 takes "20").
  if (h.status < 100 || h.status > 599) return ParseError::kInvalidStatus;
  if (seen_transfer_encoding_ && h.version_minor == 0) return ParseError::kTransferEncodingOnHttp10;
  // Requests never carry Upgrade upstream, so a 101 was not asked for; a 2xx with Upgrade
  // headers is an ordinary response (CVE-2024-23326), never a tunnel.
  if (h.status == 101) return ParseError::kUnsolicitedUpgrade;
  p->upgrade = 0;
  // RFC 9112 §6.3: responses to HEAD, 1xx, 204 and 304 never have a body, whatever their
  // headers say (llhttp 8.1.0 would read one after a 204/304 with Content-Length).
  if (head_request_ || (h.status >= 100 && h.status < 200) || h.status == 204 || h.status == 304) {
    p->flags |= F_SKIPBODY;
    h.chunked = false;
    h.has_content_length = false;
    h.content_length = 0;
  }
  return ParseError::kNone;
}

int MessageParser::onHeadersComplete(llhttp_t* p) {
  MessageParser* m = self(p);
  MessageHead& h = m->head_;
  if (m->seen_content_length_) {
    // The value was checked when it completed; a field with no value at all never was.
    if (!m->content_length_parsed_) return m->fail(ParseError::kInvalidContentLength);
    p->content_length = m->content_length_;
    p->flags |= F_CONTENT_LENGTH;
  }
  if (m->header_count_ > 0) h.headers = std::span<const HeaderField>(m->headers_.fields(), m->header_count_);
  h.version_major = p->http_major;
  h.version_minor = p->http_minor;
  h.chunked = (p->flags & F_CHUNKED) != 0;
  h.has_content_length = (p->flags & F_CONTENT_LENGTH) != 0;
  h.content_length = h.has_content_length ? p->content_length : 0;
  h.keep_alive = llhttp_should_keep_alive(p) != 0;
  if (h.version_major != 1 || h.version_minor > 1) return m->fail(ParseError::kUnsupportedVersion);
  const ParseError e = m->kind_ == Kind::kRequest ? m->checkRequestHead() : m->checkResponseHead(p);
  if (e != ParseError::kNone) return m->fail(e, e == ParseError::kFragmentInTarget || e == ParseError::kInvalidTarget ? h.target.data() : nullptr);
  m->state_ = State::kBody;
  m->pause_ = Pause::kHead;
  return HPE_PAUSED;
}

int MessageParser::onBody(llhttp_t* p, const char* at, size_t len) {
  MessageParser* m = self(p);
  m->sink_->onBodyData(std::string_view(at, len));
  return 0;
}

int MessageParser::onChunkHeader(llhttp_t* p) {
  MessageParser* m = self(p);
  m->sink_->onChunkStart(p->content_length);
  if (p->content_length != 0) return 0;
  m->pause_ = Pause::kTrailers;
  return HPE_PAUSED;
}

int MessageParser::onChunkComplete(llhttp_t* p) {
  self(p)->sink_->onChunkEnd();
  return 0;
}

int MessageParser::onMessageComplete(llhttp_t* p) {
  self(p)->pause_ = Pause::kMessage;
  return HPE_PAUSED;
}

}  // namespace dpuguard::http1
