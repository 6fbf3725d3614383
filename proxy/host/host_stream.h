// HostStream: the DPU end of one upstream "connection" to a host-resident backend, as the
// Transport of an UpstreamConnection. The client session talks HTTP/1.1 through it exactly as
// it would to a TCP upstream (same timeouts, error model and flow log), but no byte crosses
// the kernel: what the session writes is parsed here at once (strictly) into RequestHead/
// RequestBody messages, and ResponseHead/ResponseBody messages become canonical HTTP/1.1
// bytes (chunked) the session reads, whose strict response parser checks them again. It has
// no fd: readiness goes to its watcher through EventLoop::post.
// One exchange at a time (the session never pipelines upstream); each gets a new stream id.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <string>

#include "parsers/http1/message_parser.h"
#include "proxy/core/event_loop.h"
#include "proxy/core/transport.h"
#include "shm/message_codec.h"

namespace dpuguard::proxy {

class HostLink;

class HostStream final : public Transport, private http1::BodySink {
 public:
  HostStream(HostLink& link, const http1::Limits& limits);
  ~HostStream() override;
  HostStream(const HostStream&) = delete;
  HostStream& operator=(const HostStream&) = delete;

  // Transport: the session's end.
  int fd() const override { return -1; }
  void watch(IoHandler* handler, uint32_t events) override;
  Result read(char* dst, size_t capacity) override;
  // Parses the request bytes at once; would block while the ring has no room.
  Result write(std::string_view data) override;
  bool shutdownWrite() override { return false; }  // a request ends by its framing
  bool hasPendingInput() const override { return out_read_ < out_.size(); }
  bool hasBufferedInput() const override { return out_read_ < out_.size(); }
  // The session is done with it: an exchange still in flight is reset (kClientGone).
  void close() override;

  // The link's end. Messages from the host for this stream (validated by the ring consumer).
  void onResponseHead(const shm::ResponseHeadView& head);
  void onResponseBody(const shm::BodyView& body);
  void onReset() { hangUp(); }
  // The link went down or the stream misbehaved: the session reads what it has, then EOF.
  void hangUp();
  // The ring has room again: the session may write.
  void resume();
  // The link is going away (it hung the stream up first).
  void detach() { link_ = nullptr; }

 private:
  void parse();
  void onBodyData(std::string_view data) override;
  bool emitHead(const http1::MessageHead& head);
  bool emitBody(std::string_view data, bool end);
  // Tells the watcher what it asked for that is ready now (level-triggered, like epoll).
  void notify();
  // Grants the host the body bytes the session has read since the last grant (StreamWindow).
  void grant();

  HostLink* link_;
  EventLoop& loop_;
  http1::MessageParser parser_;
  size_t in_capacity_;
  // Request bytes written. While parser_.inHead() they never move and no write lands before
  // in_end_ (the feed contract): compaction and the rewind wait for the head's end.
  std::unique_ptr<char[]> in_;
  size_t in_start_ = 0;  // first byte not yet parsed
  size_t in_end_ = 0;
  std::string out_;  // response bytes for the session, from out_read_ on
  size_t out_read_ = 0;
  uint64_t body_unread_ = 0;  // response body bytes in out_, not yet granted back
  uint32_t credit_due_ = 0;   // body bytes read by the session, to grant in one message
  IoHandler* watcher_ = nullptr;
  uint32_t watch_events_ = 0;
  uint64_t stream_id_ = 0;  // 0: no exchange in progress
  bool request_body_ = false;
  bool head_request_ = false;
  bool response_started_ = false;
  bool response_body_ = false;  // framing chosen for the body: chunked
  bool blocked_ = false;        // ring full: writes would block until resume()
  bool failed_ = false;         // a message could not be sent
  bool hung_up_ = false;        // the host's side ended: reads drain out_, then EOF
  bool closed_ = false;         // the session closed it
};

}  // namespace dpuguard::proxy
