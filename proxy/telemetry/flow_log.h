// FlowLog: one JSON object per request, appended to a per-worker buffer on the request path
// and written out in one write(2) per loop iteration (never a synchronous write per request).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dpuguard::proxy {

// The open destination of flow-log lines (stderr, stdout or a file), shared by the workers
// of one config snapshot.
class FlowLogSink {
 public:
  // "stderr", "stdout", "off" or a path (opened O_APPEND). nullptr + `err` on failure.
  static std::shared_ptr<FlowLogSink> open(const std::string& where, std::string* err);
  ~FlowLogSink();
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
};

struct FlowRecord {
  std::string_view listener;
  std::string_view client;     // ip:port
  std::string_view method;
  std::string_view path;
  std::string_view route;
  std::string_view cluster;
  std::string_view endpoint;
  int status = 0;
  uint64_t bytes_in = 0;       // request bytes received from the client (head + body)
  uint64_t bytes_out = 0;      // response bytes sent to the client
  int64_t upstream_us = -1;    // request sent -> response head; -1 if none
  int64_t total_us = 0;
  std::string_view reason;     // outcomeName()
  std::string_view parse_error;  // parseErrorName() when reason is bad_request
  // Inspection (only when the snapshot inspects): who the client is and what decided.
  std::string_view identity;
  std::string_view rule;       // the rule whose verdict stands ("default" if none matched)
  std::string_view verdict;    // allow, deny, shadow_deny, unknown_edge, dpi_block, dpi_alert
  std::string_view dpi;        // ids of the signatures that matched, comma-separated
  // Inference routes: the requested model and the answer's tokens (usage, or counted).
  std::string_view model;
  int64_t prompt_tokens = -1;      // -1: not an inference exchange
  int64_t completion_tokens = -1;
};

class FlowLog {
 public:
  void setSink(std::shared_ptr<FlowLogSink> sink) { sink_ = std::move(sink); }
  void append(const FlowRecord& r);
  // Writes what is buffered; called once per loop iteration.
  void flush();

 private:
  std::shared_ptr<FlowLogSink> sink_;
  std::string buffer_;
};

// Appends `s` as the inside of a JSON string: quotes, backslashes, control and non-ASCII
// bytes escaped as \u00XX, so any byte sequence from the wire yields valid ASCII JSON.
void appendJsonEscaped(std::string& out, std::string_view s);

}  // namespace dpuguard::proxy
