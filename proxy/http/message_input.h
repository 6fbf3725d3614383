// MessageInput: a connection's input Buffer and the MessageParser that reads it, kept
// together so that head views can never dangle, wherever TCP cut the bytes. A head pins the
// buffer from its first byte until the next feed after kHeadComplete (the caller reads
// head() in between): its bytes neither move nor get overwritten by later reads. Body bytes
// are copied out by the sink, so between heads the buffer compacts and rewinds freely.
//
//   MessageInput in(capacity, http1::MessageParser::Kind::kRequest, limits);
//   n = read(fd, in.buffer().tail(), in.buffer().tailroom()); in.buffer().produced(n);
//   http1::ParseResult r = in.feed(sink);  // kHeadComplete: in.parser().head() valid until the
//   next feed
#pragma once

#include <cstddef>
#include <cstdint>

#include "parsers/http1/message_parser.h"
#include "proxy/core/buffer.h"

namespace dpuguard::proxy {

class MessageInput {
 public:
  MessageInput(size_t capacity, http1::MessageParser::Kind kind, const http1::Limits& limits)
      : buffer_(capacity), parser_(kind, limits) {}

  Buffer& buffer() { return buffer_; }
  const Buffer& buffer() const { return buffer_; }
  http1::MessageParser& parser() { return parser_; }
  const http1::MessageParser& parser() const { return parser_; }

  // Feeds at most `max` buffered bytes to the parser and consumes what it used. A head that
  // starts here gets the whole buffer (compacted) and pins it; the pin of a finished head is
  // dropped first, so head() of the previous message is invalid from this call on.
  http1::ParseResult feed(http1::BodySink& sink, size_t max = SIZE_MAX);

  // The peer closed its side: see MessageParser::finish.
  http1::ParseResult finish(http1::BodySink& sink);

  // Between messages with nothing buffered: gives buffer and header storage back.
  void releaseIdleStorage();

 private:
  Buffer buffer_;
  http1::MessageParser parser_;
};

}  // namespace dpuguard::proxy
