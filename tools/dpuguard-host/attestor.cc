// Attestor: fetch and verify.
#include "tools/dpuguard-host/attestor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>

#include "attest/digest.h"
#include "attest/quote.h"

namespace dpuguard::host {
namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool readFile(const std::string& path, std::string* out, std::string* why) {
  // Non-blocking open: a FIFO given by mistake is refused below, not waited on forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    *why = "cannot read '" + path + "': " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) > kMaxInputFileBytes) {
    *why = "'" + path + "' is " +
           (S_ISREG(st.st_mode) ? "larger than " + std::to_string(kMaxInputFileBytes) + " bytes"
                                : std::string("not a regular file"));
    ::close(fd);
    return false;
  }
  out->clear();
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && out->size() <= kMaxInputFileBytes)
    out->append(buf, static_cast<size_t>(n));
  const int err = errno;
  ::close(fd);
  if (n < 0 || out->size() > kMaxInputFileBytes) {
    *why = n < 0 ? "cannot read '" + path + "': " + std::strerror(err)
                 : "'" + path + "' grew past " + std::to_string(kMaxInputFileBytes) + " bytes";
    return false;
  }
  return true;
}

namespace {

std::string freshNonce() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return "";
  return attest::toHex(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
}

}  // namespace

bool parseAddress(std::string text, sockaddr_in* out) {
  if (text.rfind("http://", 0) == 0) text = text.substr(7);
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  *out = sockaddr_in{};
  out->sin_family = AF_INET;
  const std::string digits = text.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    return false;
  const int port = std::atoi(digits.c_str());
  out->sin_port = htons(static_cast<uint16_t>(port));
  return port > 0 && port < 65536 &&
         inet_pton(AF_INET, text.substr(0, colon).c_str(), &out->sin_addr) == 1;
}

bool httpGet(const sockaddr_in& server, const std::string& target, uint32_t timeout_ms, int* status,
             std::string* body, std::string* why) {
  const int64_t deadline = nowMs() + timeout_ms;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *why = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  std::string out = "GET " + target + " HTTP/1.1\r\nHost: dpuguard\r\nConnection: close\r\n\r\n";
  std::string in;
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) == 0 ||
            errno == EINPROGRESS;
  size_t sent = 0;
  while (ok) {
    const int64_t left = deadline - nowMs();
    pollfd p{fd, static_cast<short>(sent < out.size() ? POLLOUT : POLLIN), 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      *why = "no answer from the admin port within " + std::to_string(timeout_ms) + " ms";
      ok = false;
      break;
    }
    if (sent < out.size()) {
      const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        *why = std::string("cannot reach the admin port: ") + std::strerror(errno);
        ok = false;
      }
      if (n > 0) sent += static_cast<size_t>(n);
      continue;
    }
    char buf[16384];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      *why = std::string("reading the admin port: ") + std::strerror(errno);
      ok = false;
    }
    if (n > 0) in.append(buf, static_cast<size_t>(n));
    if (in.size() > attest::kMaxQuoteBytes + 16384) {
      *why = "the admin port's answer is larger than a quote may be";
      ok = false;
    }
  }
  ::close(fd);
  if (!ok) return false;
  const size_t end = in.find("\r\n\r\n");
  if (in.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos || in.size() < 12) {
    *why = "the admin port did not answer HTTP/1.1";
    return false;
  }
  *status = std::atoi(in.c_str() + 9);
  *body = in.substr(end + 4);
  return true;
}

std::string Attestor::verifyOnce(std::string* measurement_id) {
  const std::string nonce = freshNonce();
  int status = 0;
  std::string body, why;
  if (nonce.empty()) return "no random nonce";
  if (!httpGet(admin_, "/attestation?nonce=" + nonce, 2000, &status, &body, &why)) return why;
  if (status != 200) {
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    return "/attestation answered " + std::to_string(status) + ": " + body.substr(0, 200);
  }
  attest::SignedQuote q;
  if (!attest::parseQuote(body, &q, &why)) return why;
  if (std::string refused = attest::verifyQuote(q, nonce, public_pem_, expect_); !refused.empty())
    return refused;
  *measurement_id = q.quote.log.id();
  return "";
}

int verifyCommand(int argc, char** argv) {
  std::string expect_file, pubkey_file, admin, quote_file, nonce;
  for (int i = 0; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--expect")
      expect_file = value;
    else if (flag == "--pubkey")
      pubkey_file = value;
    else if (flag == "--admin")
      admin = value;
    else if (flag == "--quote")
      quote_file = value;
    else if (flag == "--nonce")
      nonce = value;
    else
      return 2;
  }
  sockaddr_in addr{};
  const bool online = !admin.empty() && quote_file.empty() && parseAddress(admin, &addr);
  const bool offline = admin.empty() && !quote_file.empty() && !nonce.empty();
  if (argc % 2 != 0 || expect_file.empty() || pubkey_file.empty() || (!online && !offline)) {
    std::fprintf(stderr,
                 "usage: dpuguard-host verify --expect FILE --pubkey FILE "
                 "(--admin http://IP:PORT | --quote FILE --nonce HEX)\n");
    return 2;
  }
  std::string expect_text, pem, why, id;
  attest::Expectation expect;
  if (offline) {  // the nonce the verifier chose: checked as /attestation checks it
    if (const std::string problem = attest::nonceProblem(nonce); !problem.empty()) {
      std::fprintf(stderr, "dpuguard-host verify: --nonce: %s\n", problem.c_str());
      return 2;
    }
    for (char& c : nonce) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  }
  if (!readFile(expect_file, &expect_text, &why) || !readFile(pubkey_file, &pem, &why) ||
      !attest::Expectation::parse(expect_text, &expect, &why)) {
    std::fprintf(stderr, "dpuguard-host verify: %s\n", why.c_str());
    return 1;
  }
  if (online) {
    Attestor a(addr, pem, expect);
    why = a.verifyOnce(&id);
  } else {
    std::string body;
    attest::SignedQuote q;
    if (readFile(quote_file, &body, &why) && attest::parseQuote(body, &q, &why)) {
      why = attest::verifyQuote(q, nonce, pem, expect);
      id = q.quote.log.id();
    }
  }
  if (!why.empty()) {
    std::fprintf(stderr, "dpuguard-host verify: refused: %s\n", why.c_str());
    return 1;
  }
  std::printf("verified: measurement %s\n", id.c_str());
  return 0;
}

}  // namespace dpuguard::host
