// FlowLog: one JSON object per request, appended to a per-worker buffer on the request path
// and written out in one write(2) per loop iteration (never a synchronous write per request).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "proxy/telemetry/flow_record.h"

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

}  // namespace dpuguard::proxy
