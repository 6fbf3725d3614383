// FlowLog implementation.
#include "proxy/telemetry/flow_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "proxy/core/json_escape.h"

namespace dpuguard::proxy {

std::shared_ptr<FlowLogSink> FlowLogSink::open(const std::string& where, std::string* err) {
  auto sink = std::shared_ptr<FlowLogSink>(new FlowLogSink());
  if (where == "off") return sink;
  if (where == "stderr") {
    sink->fd_ = STDERR_FILENO;
  } else if (where == "stdout") {
    sink->fd_ = STDOUT_FILENO;
  } else {
    sink->fd_ = ::open(where.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (sink->fd_ < 0) {
      if (err) *err = "cannot open flow log " + where + ": " + std::strerror(errno);
      return nullptr;
    }
    sink->owned_ = true;
  }
  return sink;
}

FlowLogSink::~FlowLogSink() {
  if (owned_ && fd_ >= 0) close(fd_);
}

namespace {

void field(std::string& out, const char* name, std::string_view value) {
  out.append(",\"");
  out.append(name);
  out.append("\":\"");
  appendJsonEscaped(out, value);
  out.push_back('"');
}

void field(std::string& out, const char* name, int64_t value) {
  out.append(",\"");
  out.append(name);
  out.append("\":");
  out.append(std::to_string(value));
}

}  // namespace

void FlowLog::append(const FlowRecord& r) {
  if (!sink_ || sink_->fd() < 0) return;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char when[64];
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                ts.tv_nsec / 1000000);
  buffer_.append("{\"time\":\"");
  buffer_.append(when);
  buffer_.push_back('"');
  field(buffer_, "listener", r.listener);
  field(buffer_, "client", r.client);
  field(buffer_, "method", r.method);
  field(buffer_, "path", r.path);
  field(buffer_, "route", r.route);
  field(buffer_, "cluster", r.cluster);
  field(buffer_, "endpoint", r.endpoint);
  field(buffer_, "status", r.status);
  field(buffer_, "bytes_in", static_cast<int64_t>(r.bytes_in));
  field(buffer_, "bytes_out", static_cast<int64_t>(r.bytes_out));
  field(buffer_, "upstream_us", r.upstream_us);
  field(buffer_, "total_us", r.total_us);
  field(buffer_, "reason", r.reason);
  if (!r.parse_error.empty()) field(buffer_, "parse_error", r.parse_error);
  if (!r.upstream_tls_error.empty()) field(buffer_, "upstream_tls_error", r.upstream_tls_error);
  if (!r.upstream_tls_verify.empty()) field(buffer_, "upstream_tls_verify", r.upstream_tls_verify);
  if (!r.identity.empty()) field(buffer_, "identity", r.identity);
  if (!r.identity_source.empty()) field(buffer_, "identity_source", r.identity_source);
  if (!r.rule.empty()) field(buffer_, "rule", r.rule);
  if (!r.verdict.empty()) field(buffer_, "verdict", r.verdict);
  if (!r.dpi.empty()) field(buffer_, "dpi", r.dpi);
  if (!r.model.empty()) field(buffer_, "model", r.model);
  if (r.prompt_tokens >= 0) field(buffer_, "prompt_tokens", r.prompt_tokens);
  if (r.completion_tokens >= 0) field(buffer_, "completion_tokens", r.completion_tokens);
  if (!r.tls_protocol.empty()) {
    field(buffer_, "tls_protocol", r.tls_protocol);
    field(buffer_, "tls_cipher", r.tls_cipher);
    if (!r.tls_sni.empty()) field(buffer_, "tls_sni", r.tls_sni);
    buffer_.append(r.tls_resumed ? ",\"tls_resumed\":true" : ",\"tls_resumed\":false");
    if (r.tls_ktls) buffer_.append(",\"tls_ktls\":true");
  }
  buffer_.append("}\n");
  if (buffer_.size() > (1u << 20)) flush();
}

void FlowLog::flush() {
  if (buffer_.empty() || !sink_ || sink_->fd() < 0) {
    buffer_.clear();
    return;
  }
  size_t off = 0;
  while (off < buffer_.size()) {
    const ssize_t n = write(sink_->fd(), buffer_.data() + off, buffer_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      break;  // a broken log drops lines rather than retrying (a slow reader can still block: see
              // SECURITY.md)
    off += static_cast<size_t>(n);
  }
  buffer_.clear();
}

}  // namespace dpuguard::proxy
