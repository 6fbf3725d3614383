// MessageInput: the pin that keeps a head's bytes in place while the parser holds views.
#include "proxy/http/message_input.h"

#include <algorithm>
#include <cassert>

namespace dpuguard::proxy {

http1::ParseResult MessageInput::feed(http1::BodySink& sink, size_t max) {
  if (buffer_.pinned() && !parser_->inHead()) buffer_.unpin();  // the caller is done with head()
  const size_t n = std::min(max, buffer_.size());
  if (!parser_->inMessage() && n > 0) {
    buffer_.compact();  // a head starts: all the room for it, and no byte of it moves again
    buffer_.pin();
  }
  // The contract this type exists for. Broken, it is a bug here, never the input's fault:
  // debug builds stop; others refuse the message rather than parse moved bytes.
  if (parser_->inHead() && !buffer_.pinned()) {
    assert(!"a head in progress lost its pin");
    return http1::ParseResult{http1::ParseStatus::kError, 0, http1::ParseError::kDiscontiguousInput,
                              0};
  }
  const http1::ParseResult r = parser_->feed(buffer_.readable().substr(0, n), sink);
  buffer_.consume(r.consumed);
  return r;
}

http1::ParseResult MessageInput::finish(http1::BodySink& sink) {
  return parser_->finish(sink);
}

void MessageInput::attach(http1::MessageParser& parser) {
  assert(parser_ == nullptr);
  parser_ = &parser;
}

void MessageInput::detach() {
  if (parser_ == nullptr || owned_ != nullptr) return;
  buffer_.unpin();
  parser_->reset();
  parser_ = nullptr;
}

void MessageInput::releaseIdleStorage() {
  if (inMessage() || !buffer_.empty()) return;
  buffer_.unpin();
  buffer_.releaseIfEmpty();
  if (parser_ != nullptr) parser_->releaseStorage();
}

}  // namespace dpuguard::proxy
