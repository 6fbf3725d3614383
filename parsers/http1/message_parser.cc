// MessageParser: llhttp callbacks -> MessageHead + BodySink, with limits and validation.
#include "parsers/http1/message_parser.h"

#include <algorithm>

namespace dpuguard::http1 {
namespace {

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
    case HPE_INVALID_URL: return ParseError::kInvalidUrl;
    case HPE_INVALID_VERSION: return ParseError::kInvalidVersion;
    case HPE_INVALID_HEADER_TOKEN: return ParseError::kInvalidHeaderToken;
    case HPE_INVALID_CONSTANT: return ParseError::kInvalidConstant;
    case HPE_INVALID_STATUS: return ParseError::kInvalidStatus;
    case HPE_INVALID_CONTENT_LENGTH: return ParseError::kInvalidContentLength;
    case HPE_UNEXPECTED_CONTENT_LENGTH: return ParseError::kUnexpectedContentLength;
    case HPE_INVALID_TRANSFER_ENCODING: return ParseError::kInvalidTransferEncoding;
    case HPE_INVALID_CHUNK_SIZE: return ParseError::kInvalidChunkSize;
    case HPE_CR_EXPECTED:
    case HPE_LF_EXPECTED: return ParseError::kLineEnding;
    case HPE_UNEXPECTED_SPACE: return ParseError::kUnexpectedSpace;
    case HPE_STRICT: return ParseError::kStrict;
    case HPE_CLOSED_CONNECTION: return ParseError::kClosedConnection;
    case HPE_INVALID_EOF_STATE: return ParseError::kTruncated;
    default: return ParseError::kOther;
  }
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::string_view MessageHead::find(std::string_view name) const {
  for (const HeaderField& h : headers) {
    if (equalsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

MessageParser::MessageParser(Kind kind, const Limits& limits)
    : kind_(kind), limits_(limits), message_limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = &MessageParser::onMessageBegin;
  settings_.on_method = &MessageParser::onMethod;
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
  state_ = State::kIdle;
  paused_ = false;
  dead_ = false;
  error_ = ParseError::kNone;
  dead_error_ = ParseError::kNone;
  startMessage();
}

void MessageParser::startMessage() {
  message_limits_ = limits_;
  message_bytes_ = 0;
  head_bytes_ = 0;
  field_open_ = value_open_ = value_seen_ = false;
  header_count_ = 0;
  head_ = MessageHead{};
}

int MessageParser::fail(ParseError e) {
  error_ = e;
  return -1;
}

ParseResult MessageParser::errorResult(std::string_view data, const char* pos) {
  ParseResult r;
  r.status = ParseStatus::kError;
  size_t at = data.size();
  if (pos != nullptr && pos >= data.data() && pos <= data.data() + data.size()) {
    at = static_cast<size_t>(pos - data.data());
  }
  r.consumed = at;
  r.error = error_ != ParseError::kNone ? error_ : fromLlhttp(llhttp_get_errno(&llhttp_));
  r.error_offset = message_bytes_ + at;
  dead_ = true;
  dead_error_ = r.error;
  return r;
}

ParseResult MessageParser::feed(std::string_view data, BodySink& sink) {
  // llhttp computes data + len: never hand it a null pointer, even for zero bytes.
  static constexpr char kNoBytes[1] = {0};
  if (data.data() == nullptr) data = std::string_view(kNoBytes, 0);
  if (dead_) {
    return ParseResult{ParseStatus::kError, 0, dead_error_, message_bytes_};
  }
  if (paused_) {
    llhttp_resume(&llhttp_);
    paused_ = false;
  }
  // While in the head, never hand llhttp more than the head budget: a head that has not
  // ended when the budget is spent is too large, however the bytes were split.
  const bool in_head = state_ != State::kBody;
  size_t len = data.size();
  if (in_head) {
    const size_t budget = message_limits_.max_header_bytes - std::min(head_bytes_, message_limits_.max_header_bytes);
    len = std::min(len, budget);
  }
  sink_ = &sink;
  error_ = ParseError::kNone;
  const llhttp_errno_t rc = llhttp_execute(&llhttp_, data.data(), len);
  sink_ = nullptr;

  if (rc == HPE_OK) {
    if (in_head && state_ != State::kBody) {
      head_bytes_ += static_cast<uint32_t>(len);
      if (len < data.size() || head_bytes_ >= message_limits_.max_header_bytes) {
        error_ = ParseError::kHeadTooLarge;
        return errorResult(data, data.data() + len);
      }
    }
    message_bytes_ += len;
    return ParseResult{ParseStatus::kNeedMore, len, ParseError::kNone, 0};
  }
  if (rc == HPE_PAUSED) {
    paused_ = true;
    const size_t used = static_cast<size_t>(llhttp_get_error_pos(&llhttp_) - data.data());
    message_bytes_ += used;
    if (state_ == State::kBody && head_.head_bytes == 0) {
      // Paused in on_headers_complete.
      head_bytes_ += static_cast<uint32_t>(used);
      head_.head_bytes = head_bytes_;
      return ParseResult{ParseStatus::kHeadComplete, used, ParseError::kNone, 0};
    }
    // Paused in on_message_complete: the next feed starts a new message.
    state_ = State::kIdle;
    return ParseResult{ParseStatus::kMessageComplete, used, ParseError::kNone, 0};
  }
  return errorResult(data, llhttp_get_error_pos(&llhttp_));
}

ParseResult MessageParser::finish(BodySink& sink) {
  if (dead_) return ParseResult{ParseStatus::kError, 0, dead_error_, message_bytes_};
  if (state_ == State::kIdle) return ParseResult{};
  if (paused_) {
    llhttp_resume(&llhttp_);
    paused_ = false;
  }
  sink_ = &sink;
  const llhttp_errno_t rc = llhttp_finish(&llhttp_);
  sink_ = nullptr;
  if (rc == HPE_PAUSED || (rc == HPE_OK && state_ == State::kIdle)) {
    state_ = State::kIdle;
    paused_ = rc == HPE_PAUSED;
    return ParseResult{ParseStatus::kMessageComplete, 0, ParseError::kNone, 0};
  }
  error_ = ParseError::kTruncated;
  return errorResult({}, nullptr);
}

int MessageParser::onMessageBegin(llhttp_t* p) {
  MessageParser* m = self(p);
  m->startMessage();
  m->state_ = State::kHead;
  return 0;
}

int MessageParser::onMethod(llhttp_t* p, const char* at, size_t len) {
  MessageParser* m = self(p);
  return extend(m->head_.method, at, len) ? 0 : m->fail(ParseError::kDiscontiguousInput);
}

int MessageParser::onUrl(llhttp_t* p, const char* at, size_t len) {
  MessageParser* m = self(p);
  if (!extend(m->head_.target, at, len)) return m->fail(ParseError::kDiscontiguousInput);
  if (m->head_.target.size() > m->message_limits_.max_uri_bytes) return m->fail(ParseError::kUriTooLong);
  return 0;
}

int MessageParser::onStatus(llhttp_t* p, const char* at, size_t len) {
  MessageParser* m = self(p);
  return extend(m->head_.reason, at, len) ? 0 : m->fail(ParseError::kDiscontiguousInput);
}

int MessageParser::onHeaderField(llhttp_t* p, const char* at, size_t len) {
  MessageParser* m = self(p);
  if (!m->field_open_) {
    if (m->header_count_ >= m->message_limits_.max_headers || m->header_count_ >= kMaxHeadersCapacity) {
      return m->fail(ParseError::kTooManyHeaders);
    }
    m->headers_[m->header_count_++] = HeaderField{};
    m->field_open_ = true;
    m->value_open_ = m->value_seen_ = false;
  }
  HeaderField& h = m->headers_[m->header_count_ - 1];
  return extend(h.name, at, len) ? 0 : m->fail(ParseError::kDiscontiguousInput);
}

int MessageParser::onHeaderFieldComplete(llhttp_t* p) {
  self(p)->field_open_ = false;
  return 0;
}

int MessageParser::onHeaderValue(llhttp_t* p, const char* at, size_t len) {
  MessageParser* m = self(p);
  if (m->header_count_ == 0) return m->fail(ParseError::kOther);
  HeaderField& h = m->headers_[m->header_count_ - 1];
  if (!m->value_open_) {
    // A second value for the same field is an obs-fold continuation line (RFC 9112 §5.2):
    // rejected, never joined (CVE-2024-27982 class).
    if (m->value_seen_) return m->fail(ParseError::kObsFold);
    m->value_open_ = m->value_seen_ = true;
  }
  return extend(h.value, at, len) ? 0 : m->fail(ParseError::kObsFold);
}

int MessageParser::onHeaderValueComplete(llhttp_t* p) {
  MessageParser* m = self(p);
  m->value_open_ = false;
  m->value_seen_ = true;
  return 0;
}

int MessageParser::onHeadersComplete(llhttp_t* p) {
  MessageParser* m = self(p);
  MessageHead& h = m->head_;
  h.headers = std::span<const HeaderField>(m->headers_, m->header_count_);
  h.version_major = p->http_major;
  h.version_minor = p->http_minor;
  h.chunked = (p->flags & F_CHUNKED) != 0;
  h.has_content_length = (p->flags & F_CONTENT_LENGTH) != 0;
  h.content_length = h.has_content_length ? p->content_length : 0;
  h.keep_alive = llhttp_should_keep_alive(p) != 0;
  if (m->kind_ == Kind::kRequest) {
    if (p->method == HTTP_CONNECT) return m->fail(ParseError::kUpgradeRefused);
    // Upgrade is hop-by-hop and this proxy does not tunnel yet: the request continues as
    // plain HTTP and the forwarder drops the Upgrade header.
    h.upgrade = p->upgrade != 0;
    p->upgrade = 0;
  } else {
    h.status = p->status_code;
    if (h.status == 101) return m->fail(ParseError::kUpgradeRefused);
    // RFC 9112 §6.3: responses to HEAD, 1xx, 204 and 304 never have a body, whatever their
    // headers say (llhttp 8.1.0 would read one after a 204/304 with Content-Length).
    if (m->head_request_ || (h.status >= 100 && h.status < 200) || h.status == 204 || h.status == 304) {
      p->flags |= F_SKIPBODY;
      h.chunked = false;
      h.has_content_length = false;
      h.content_length = 0;
    }
  }
  m->state_ = State::kBody;
  return HPE_PAUSED;
}

int MessageParser::onBody(llhttp_t* p, const char* at, size_t len) {
  MessageParser* m = self(p);
  m->sink_->onBodyData(std::string_view(at, len));
  return 0;
}

int MessageParser::onChunkHeader(llhttp_t* p) {
  self(p)->sink_->onChunkStart(p->content_length);
  return 0;
}

int MessageParser::onChunkComplete(llhttp_t* p) {
  self(p)->sink_->onChunkEnd();
  return 0;
}

int MessageParser::onMessageComplete(llhttp_t* p) {
  (void)p;
  return HPE_PAUSED;
}

}  // namespace dpuguard::http1
