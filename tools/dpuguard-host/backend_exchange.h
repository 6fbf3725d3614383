// BackendExchange: one request stream from the DPU as one HTTP/1.1 exchange with the local
// server, on a non-blocking socket driven by the bridge's event loop (HttpBridge). The request
// (head built from the RequestHead message, body from RequestBody messages, chunked when its
// length is unknown) is written as the socket takes it; the response is parsed strictly by
// the same parser the proxy uses and posted to the channel as it arrives (ResponseHead, then
// ResponseBody pieces that fit one message), so SSE passes event by event.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "parsers/http1/message_parser.h"
#include "shm/host/host_channel.h"
#include "shm/messages.h"

namespace dpuguard::host {

class BackendExchange final : private http1::BodySink {
 public:
  // Where an exchange stands after an event.
  enum class Outcome : uint8_t {
    kOpen,       // goes on
    kDone,       // the response went to the DPU whole; the connection may serve another
    kDoneClose,  // the same, but the connection must not be reused
    kRetry,      // the first write on a pooled connection failed (the server had closed it):
                 // nothing reached the server, the exchange may start again on a new one
    kFailed,     // a StreamReset went to the DPU
  };

  // `head`: the request head with its final CRLF. `chunked`: the body's length is unknown.
  BackendExchange(shm::HostChannel& channel, uint64_t id, std::string head, bool chunked,
                  bool head_request, bool body_done);
  ~BackendExchange() override;
  BackendExchange(const BackendExchange&) = delete;
  BackendExchange& operator=(const BackendExchange&) = delete;

  uint64_t id() const { return id_; }
  int fd() const { return fd_; }
  bool started() const { return fd_ >= 0; }
  // Request bytes accepted from the DPU and not yet written to the server.
  size_t pending() const { return out_.size() - out_sent_; }

  // Takes the connection (`pooled`: it served an exchange before); flush() writes.
  void start(int fd, bool pooled);
  // A piece of the request body; `end`: the last one. flush() writes it.
  Outcome addBody(std::string_view data, bool end);
  // Writes what the socket takes of the request so far (the bridge calls it once per turn, so
  // a head and the body that came in the same batch of messages leave in one send).
  Outcome flush();
  // Readiness of the socket (edge-triggered EPOLLIN/OUT/ERR/HUP): writes and reads until the
  // socket would block. `reading` false: the DPU's queue is full, the response waits (call
  // again with EPOLLIN when it has room: no new edge will come).
  Outcome onEvents(uint32_t events, bool reading);
  // The DPU passed `credit` more body bytes on to its client (StreamWindow): reads resume if
  // they waited for it (`reading` as for onEvents).
  Outcome addCredit(uint32_t credit, bool reading);
  // Gives the socket back (the exchange ends; -1 if it never had one).
  int release();
  // Tells the DPU the stream is gone (StreamReset with `reason`).
  void reset(shm::ResetReason reason);

 private:
  Outcome write();
  Outcome read();  // until EAGAIN
  Outcome parse();
  Outcome failed(shm::ResetReason reason);
  void onBodyData(std::string_view data) override;
  void postBody(std::string_view data, bool end);
  bool postHead(const http1::MessageHead& h);

  shm::HostChannel& channel_;
  uint64_t id_;
  bool chunked_;
  bool head_request_;
  bool body_done_;
  bool pooled_ = false;
  int fd_ = -1;
  std::string out_;  // request bytes framed for the server
  size_t out_sent_ = 0;
  bool wrote_ = false;    // a byte reached the socket
  http1::Limits limits_;  // defaults: the DPU applies its own limits to what we send on
  http1::MessageParser parser_;
  // Response bytes; a head's bytes never move while it is parsed (the feed contract).
  std::unique_ptr<char[]> in_;
  size_t in_capacity_ = 0;
  size_t in_start_ = 0;
  size_t in_end_ = 0;
  // Response body bytes the DPU lets us send before its next grant (per-stream flow control):
  // at zero the backend is not read (it waits in its socket, TCP holds the server back).
  int64_t credit_ = shm::kInitialStreamWindow;
  bool starved_ = false;  // a read stopped for want of credit
  bool sent_head_ = false;
  bool interim_ = false;
  bool keep_alive_ = false;
};

}  // namespace dpuguard::host
