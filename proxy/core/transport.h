// Transport: the byte stream a client session reads and writes: a plain socket today, a TLS
// connection on the same socket next. No HTTP in it; the session never calls read(2) or
// send(2) itself. Non-blocking: a step that cannot go on says kWouldBlock, and wantsRead /
// wantsWrite tell which readiness the transport itself waits for (TLS may have to read to
// write, or write to read); a plain socket waits for nothing of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dpuguard::proxy {

class IoHandler;

// What a TLS connection negotiated, for the flow log. Views valid while the transport lives.
struct TlsFacts {
  std::string_view protocol;  // "TLSv1.3"
  std::string_view cipher;    // "TLS_AES_128_GCM_SHA256"
  std::string_view sni;       // the server name the client asked for; empty if none
  bool resumed = false;       // the handshake resumed a session (ticket)
  bool ktls = false;          // the kernel took the record layer (kTLS send and receive)
};

class Transport {
 public:
  enum class Io : uint8_t {
    kDone,        // `bytes` moved (> 0)
    kWouldBlock,  // nothing moved; wait for readiness
    kEof,         // read: the peer ended its side
    kError,       // the connection is broken (reset, or a TLS alert)
  };
  struct Result {
    Io io = Io::kWouldBlock;
    size_t bytes = 0;
  };

  virtual ~Transport() = default;
  // The socket the event loop watches; -1 for a transport with none (a stream over the host
  // channel), which reports readiness itself through watch().
  virtual int fd() const = 0;
  // fd() < 0 only: from now on `handler` is told (EventLoop::post) when the transport is
  // ready for the `events` asked (EPOLLIN, EPOLLOUT; EPOLLHUP always); null stops that.
  virtual void watch(IoHandler* /*handler*/, uint32_t /*events*/) {}
  // Reads at most `capacity` bytes of the stream into `dst`.
  virtual Result read(char* dst, size_t capacity) = 0;
  // Writes a prefix of `data`.
  virtual Result write(std::string_view data) = 0;
  // Ends our direction (FIN, or TLS close_notify then FIN); reads go on. False: not possible.
  virtual bool shutdownWrite() = 0;
  // True when stream bytes may be readable now that have not been read (decides a lingering
  // close: closing with unread bytes resets the connection).
  virtual bool hasPendingInput() const = 0;
  // True when stream bytes are readable now that no readiness event will announce: the
  // transport holds them itself (TLS: the rest of a decrypted record, records read ahead). The
  // reader reads them when it has room again. A plain socket holds none.
  virtual bool hasBufferedInput() const { return false; }
  virtual bool wantsRead() const { return false; }
  // The workload identity the connection itself proves: the SPIFFE ID of the client's
  // verified mTLS certificate. Empty when it proves none (plain TCP, TLS without a client
  // certificate). Valid while the transport lives.
  virtual std::string_view peerIdentity() const { return {}; }
  // Null for a plain socket; set once the TLS handshake is done.
  virtual const TlsFacts* tls() const { return nullptr; }
  virtual bool wantsWrite() const { return false; }
  // Closes the socket. Idempotent.
  virtual void close() = 0;
};

}  // namespace dpuguard::proxy
