// PlainTransport: a Transport over a connected non-blocking TCP socket (read(2), send(2)
// with MSG_NOSIGNAL, shutdown(2)). Owns the fd.
#pragma once

#include "proxy/core/transport.h"

namespace dpuguard::proxy {

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}
  ~PlainTransport() override { close(); }
  PlainTransport(const PlainTransport&) = delete;
  PlainTransport& operator=(const PlainTransport&) = delete;

  int fd() const override { return fd_; }
  Result read(char* dst, size_t capacity) override;
  Result write(std::string_view data) override;
  bool shutdownWrite() override;
  bool hasPendingInput() const override;
  void close() override;

 private:
  int fd_;
};

}  // namespace dpuguard::proxy
