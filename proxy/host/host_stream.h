// HostStream: the DPU end of one upstream "connection" to a host-resident backend. The client
// session talks HTTP/1.1 to its end of a socketpair exactly as it would to a TCP upstream (same
// timeouts, error model and flow log); this object holds the other end and translates:
//   request bytes (as the proxy rebuilt them) --strict parse--> RequestHead/RequestBody messages
//   ResponseHead/ResponseBody messages --> canonical HTTP/1.1 bytes (chunked) --> the session,
//                                          whose strict response parser checks them again.
// One exchange at a time (the session never pipelines upstream); each gets a new stream id.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <string>

#include "parsers/http1/message_parser.h"
#include "proxy/core/event_loop.h"
#include "shm/message_codec.h"

namespace dpuguard::proxy {

class HostLink;

class HostStream final : public IoHandler, private http1::BodySink {
 public:
  HostStream(HostLink& link, int fd, const http1::Limits& limits);
  ~HostStream() override;

  int fd() const { return fd_; }
  bool closed() const { return fd_ < 0; }

  void onIo(uint32_t events) override;
  // Messages from the host for this stream (already validated by the ring consumer).
  void onResponseHead(const shm::ResponseHeadView& head);
  void onResponseBody(const shm::BodyView& body);
  void onReset();
  // The link went down or the stream misbehaved: the session sees its connection reset.
  void close();
  // The ring has room again: read request bytes we held back.
  void resume();

 private:
  void readRequest();
  void parse();
  void onBodyData(std::string_view data) override;
  bool emitHead(const http1::MessageHead& head);
  bool emitBody(std::string_view data, bool end);
  void writeResponse();
  void updateInterest();

  HostLink& link_;
  int fd_;
  http1::MessageParser parser_;
  size_t in_capacity_;
  // Request bytes read. While parser_.inHead() they never move and no read lands before
  // in_end_ (the feed contract): compaction and the rewind wait for the head's end.
  std::unique_ptr<char[]> in_;
  size_t in_start_ = 0;         // first byte not yet parsed
  size_t in_end_ = 0;
  std::string out_;             // response bytes for the session
  uint64_t stream_id_ = 0;  // 0: no exchange in progress
  bool request_body_ = false;
  bool head_request_ = false;
  bool response_started_ = false;
  bool response_body_ = false;  // framing chosen for the body: chunked
  bool blocked_ = false;        // ring full: not reading until resume()
  bool failed_ = false;         // a message could not be sent
  uint32_t interest_ = EPOLLIN | EPOLLRDHUP;  // as HostLink registers the fd
};

}  // namespace dpuguard::proxy
