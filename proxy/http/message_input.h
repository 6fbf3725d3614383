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
#include <memory>

#include "parsers/http1/message_parser.h"
#include "proxy/core/buffer.h"

namespace dpuguard::proxy {

class MessageInput {
 public:
  // With a parser of its own, for good (an upstream connection).
  MessageInput(size_t capacity, http1::MessageParser::Kind kind, const http1::Limits& limits)
      : buffer_(capacity),
        owned_(std::make_unique<http1::MessageParser>(kind, limits)),
        parser_(owned_.get()) {}
  // Without one: a parser is attached while messages are read and detached between them (a
  // client connection: the parser is per-exchange state, so an idle connection holds none).
  explicit MessageInput(size_t capacity) : buffer_(capacity) {}

  Buffer& buffer() { return buffer_; }
  const Buffer& buffer() const { return buffer_; }
  // Valid only while a parser is attached.
  http1::MessageParser& parser() { return *parser_; }
  const http1::MessageParser& parser() const { return *parser_; }
  bool attached() const { return parser_ != nullptr; }
  // A parser is attached and a message is in progress.
  bool inMessage() const { return parser_ != nullptr && parser_->inMessage(); }
  // Reads with `parser` from now on (none attached).
  void attach(http1::MessageParser& parser);
  // Gives the parser back, reset; a message in progress is abandoned (its pin dropped).
  void detach();

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
  std::unique_ptr<http1::MessageParser> owned_;
  http1::MessageParser* parser_ = nullptr;
};

}  // namespace dpuguard::proxy
