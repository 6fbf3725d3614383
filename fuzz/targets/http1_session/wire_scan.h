// Small, deliberately independent readers of the bytes around a proxied session, for the
// http1_session fuzz target (not dpuguard's parser: they check its output). They read what
// dpuguard writes (canonical heads, its own framing) strictly, and the fuzzer's scripted
// upstream responses only as far as needed to cut them where the outcome cannot depend on it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dpuguard::fuzz::session {

// The first request at the front of `bytes`, which dpuguard sent upstream.
struct UpstreamRequest {
  enum class Status { kIncomplete, kComplete, kMalformed };
  Status status = Status::kIncomplete;
  size_t length = 0;        // kComplete: head + body bytes
  std::string_view method;  // kComplete / kIncomplete with a whole request line
  std::string why;          // kMalformed: what is wrong (a smuggling or injection finding)
};

// Reads a request as dpuguard writes it upstream (head_writer.cc, body_forwarder.cc): a
// request line "TOKEN SP target SP HTTP/1.1", "name: value" field lines of tokens and field
// characters, exactly one Host, at most one of Content-Length (digits) and Transfer-Encoding
// ("chunked"), then a body in exactly that framing (chunk extensions and trailers dropped).
// Anything else is kMalformed: upstream-bound bytes another parser could read differently.
UpstreamRequest scanUpstreamRequest(std::string_view bytes);

// How far into a scripted upstream `response` the harness may cut it (every cut < the value
// returned) so that the proxy's result cannot depend on where: anywhere when the response is
// one final message whose end is certain (status 200-599 but 204/304, not answering HEAD,
// not an event stream, one Content-Length or a strictly chunked body that ends with the
// script); otherwise only inside its first head, so that whatever follows the head arrives
// with the head's last byte, as it does unsegmented.
size_t responseCutLimit(std::string_view response, std::string_view request_method);

// Bytes dpuguard wrote (to the client or an upstream) with every chunked body (a head with
// "Transfer-Encoding: chunked") decoded: an unframed or event-stream upstream body, and a
// scanned request body, are re-chunked per read, so chunk sizes legitimately follow the
// segmentation; the bytes and everything else must not.
std::string normalizeClientBytes(std::string_view bytes);

}  // namespace dpuguard::fuzz::session
