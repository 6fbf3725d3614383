// Head rebuilding for both directions.
#include "proxy/http/head_writer.h"

#include "parsers/http1/field_rules.h"

namespace dpuguard::proxy {
namespace {

using http1::equalsIgnoreCase;

// Whether `name` is listed as a token in any Connection header (RFC 9110 §7.6.1).
bool namedByConnection(const http1::MessageHead& head, std::string_view name) {
  for (const http1::HeaderField& f : head.headers) {
    if (!equalsIgnoreCase(f.name, "connection")) continue;
    if (http1::listContains(f.value, name)) return true;
  }
  return false;
}

void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

void appendFraming(std::string& out, BodyFraming framing, uint64_t length) {
  if (framing == BodyFraming::kContentLength) {
    appendHeader(out, "Content-Length", std::to_string(length));
  } else if (framing == BodyFraming::kChunked || framing == BodyFraming::kRechunk) {
    appendHeader(out, "Transfer-Encoding", "chunked");
  }
}

// Copies end-to-end headers; X-Forwarded-For and Via are handled by the callers.
void appendEndToEnd(const http1::MessageHead& head, std::string& out, std::string_view* xff,
                    std::string_view* via, bool drop_accept_encoding = false,
                    bool drop_authorization = false) {
  for (const http1::HeaderField& f : head.headers) {
    if (isHopByHop(f.name) || namedByConnection(head, f.name)) continue;
    if (drop_accept_encoding && equalsIgnoreCase(f.name, "accept-encoding")) continue;
    if (drop_authorization && equalsIgnoreCase(f.name, "authorization")) continue;
    // A client's own claim to a verified certificate (Envoy's convention) is never passed
    // on: only a proxy that verified the certificate may say so (Envoy's default, sanitize).
    if (xff != nullptr && equalsIgnoreCase(f.name, "x-forwarded-client-cert")) continue;
    if (equalsIgnoreCase(f.name, "x-forwarded-for")) {
      if (xff != nullptr) *xff = f.value;
      continue;
    }
    if (equalsIgnoreCase(f.name, "via")) {
      if (via != nullptr) *via = f.value;
      continue;
    }
    appendHeader(out, f.name, f.value);
  }
}

// "Via: <received>, 1.x dpuguard" (RFC 9110 §7.6.3): the protocol version we received.
void appendVia(std::string& out, std::string_view received, const http1::MessageHead& head) {
  out.append("Via: ");
  if (!received.empty()) {
    out.append(received);
    out.append(", ");
  }
  out.append(head.version_minor == 0 ? "1.0" : "1.1");
  out.append(" dpuguard\r\n");
}

}  // namespace

bool isHopByHop(std::string_view name) {
  return http1::isHopByHop(http1::classifyField(name));
}

void writeRequestHead(const http1::MessageHead& head, const RequestForwarding& fwd,
                      std::string& out) {
  out.append(head.method);
  out.push_back(' ');
  out.append(fwd.target);
  out.append(" HTTP/1.1\r\n");
  // Always exactly one Host: an HTTP/1.0 client may send none, but HTTP/1.1 requires it, empty
  // when the target has no authority (RFC 9112 §3.2).
  appendHeader(out, "Host", fwd.host);
  std::string_view xff;
  std::string_view via;
  appendEndToEnd(head, out, &xff, &via, fwd.identity_encoding, fwd.drop_authorization);
  appendVia(out, via, head);
  out.append("X-Forwarded-For: ");
  if (!xff.empty()) {
    out.append(xff);
    out.append(", ");
  }
  out.append(fwd.client_ip);
  out.append("\r\n");
  appendFraming(out, fwd.framing, fwd.content_length);
  out.append("\r\n");
}

void writeResponseHead(const http1::MessageHead& head, const ResponseForwarding& fwd,
                       std::string& out) {
  out.append("HTTP/1.1 ");
  out.append(std::to_string(head.status));
  out.push_back(' ');
  out.append(head.reason);
  out.append("\r\n");
  std::string_view via;
  appendEndToEnd(head, out, nullptr, &via);
  if (fwd.keep_length_header) {
    // The parser validated it (HEAD and 304 answers frame no body); written as a number, so
    // "005" leaves as "5", like every length dpuguard forwards.
    uint64_t length = 0;
    if (std::string_view cl = head.find("content-length");
        !cl.empty() && http1::parseContentLength(cl, &length) == http1::ParseError::kNone) {
      appendHeader(out, "Content-Length", std::to_string(length));
    }
  }
  appendVia(out, via, head);
  appendFraming(out, fwd.framing, fwd.content_length);
  if (fwd.close) out.append("Connection: close\r\n");
  out.append("\r\n");
}

void addContentLength(std::string& head, uint64_t length) {
  if (head.size() >= 2) head.resize(head.size() - 2);  // the blank line
  appendFraming(head, BodyFraming::kContentLength, length);
  head.append("\r\n");
}

}  // namespace dpuguard::proxy
