// FlowLog: one JSON object per request, appended to a per-worker buffer on the request path
// and, once per loop iteration, handed to a bounded per-worker FlowLogQueue that a writer
// thread (FlowLogWriter) empties into the sink. A worker never writes the log itself: when a
// slow reader has filled its queue, lines are dropped and counted
// (dpuguard_flow_log_dropped_total), the worker goes on. Without a queue (in-process drivers:
// benchmarks, the session fuzz target) flush() writes synchronously.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "proxy/telemetry/flow_record.h"
#include "proxy/telemetry/metrics.h"

namespace dpuguard::proxy {

// The open destination of flow-log lines, shared by the workers of one config snapshot.
class FlowLogSink {
 public:
  enum class Kind : uint8_t {
    kNone,      // "off"
    kStream,    // stderr, stdout, a file (O_APPEND), a FIFO
    kSyslog,    // "syslog": /dev/log, one RFC 3164 message per line
    kDatagram,  // "unix:PATH": a datagram socket, one line per datagram (log shippers)
  };
  // "stderr", "stdout", "off", "syslog", "unix:PATH" or a path. nullptr + `err` on failure.
  static std::shared_ptr<FlowLogSink> open(const std::string& where, std::string* err);
  ~FlowLogSink();
  int fd() const { return fd_; }
  Kind kind() const { return kind_; }
  // Writes whole lines (each ending in '\n'), waiting for the reader while `give_up` is false
  // (never blocking in one call longer than ~100 ms). Returns the lines not written.
  uint64_t write(std::string_view lines, const std::atomic<bool>& give_up);

 private:
  bool waitWritable(const std::atomic<bool>& give_up);
  int fd_ = -1;
  bool owned_ = false;
  Kind kind_ = Kind::kNone;
  std::string scratch_;  // a syslog message being assembled
};

// One worker's lines waiting for the writer: at most `capacity` bytes, for one sink at a time.
// push() by the worker, take() by the writer thread; a mutex held only to append or swap.
class FlowLogQueue {
 public:
  enum class Push : uint8_t { kQueued, kDropped, kBusy };
  // Appends `text` (`lines` lines for `sink`) unless it would pass `capacity` (kDropped: the
  // caller counts them) or lines for another sink wait (kBusy: after a reload; try again).
  Push push(const std::shared_ptr<FlowLogSink>& sink, std::string_view text, uint64_t lines,
            size_t capacity);
  // Swaps the queued lines into `out` (cleared first); returns their sink (null: none).
  std::shared_ptr<FlowLogSink> take(std::string& out);

 private:
  friend class FlowLogWriter;
  std::mutex mutex_;
  std::string pending_;
  std::shared_ptr<FlowLogSink> sink_;
  std::condition_variable* wake_ = nullptr;  // the writer's, set when registered
};

// The thread that writes every worker's queue to its sink.
class FlowLogWriter {
 public:
  FlowLogWriter() = default;
  ~FlowLogWriter();
  // A queue for one more worker; call before start().
  FlowLogQueue* addQueue();
  void start();
  // Writes what is queued (giving a stalled reader up to `grace_ms`), then ends the thread.
  void stop(int64_t grace_ms = 2000);
  // Lines the writer could not deliver (the sink failed, or the grace at stop ran out).
  uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

 private:
  void run();
  bool drainOnce(std::string& batch);

  std::vector<std::unique_ptr<FlowLogQueue>> queues_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> give_up_{false};
  std::atomic<uint64_t> lost_{0};
  std::thread thread_;
};

class FlowLog {
 public:
  void setSink(std::shared_ptr<FlowLogSink> sink) { sink_ = std::move(sink); }
  // From now on flush() hands lines to `queue`, at most `capacity` bytes waiting, and counts
  // the lines it drops in `dropped`.
  void setQueue(FlowLogQueue* queue, Counter* dropped) {
    queue_ = queue;
    dropped_ = dropped;
  }
  void setQueueCapacity(size_t bytes) { capacity_ = bytes; }
  void append(const FlowRecord& r);
  // Hands what is buffered to the queue (or writes it, without one); once per loop iteration.
  void flush();

 private:
  std::shared_ptr<FlowLogSink> sink_;
  FlowLogQueue* queue_ = nullptr;
  Counter* dropped_ = nullptr;
  size_t capacity_ = 4u << 20;
  std::string buffer_;
  uint64_t lines_ = 0;
};

}  // namespace dpuguard::proxy
