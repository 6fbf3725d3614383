// RefusalLog: one stderr line per client certificate a listener refused (who, why), at most
// one per interval so that a flood of bad certificates cannot flood the log; the next line
// says how many were left out. The counters (dpuguard_tls_handshake_failures_total) have
// every one; this says which peer it was, for the security team reading the log.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace dpuguard::proxy::tls {

class RefusalLog {
 public:
  explicit RefusalLog(std::FILE* out = stderr, int64_t interval_ms = 1000)
      : out_(out), interval_ms_(interval_ms) {}

  // `what` happened at `now_ms`: written, or counted toward the next line. True if written.
  bool note(int64_t now_ms, const std::string& what);

 private:
  std::FILE* out_;
  int64_t interval_ms_;
  int64_t last_ms_ = INT64_MIN;
  uint64_t left_out_ = 0;
};

}  // namespace dpuguard::proxy::tls
