// Differential fuzz target: canonical forwarding. Every request our parser accepts is
// rebuilt the way the proxy sends it upstream (normalized target, one Host, hop-by-hop
// fields dropped, our framing), and the rebuilt head is parsed again by the same strict
// parser. Invariants:
//   - the rebuilt head is always accepted, as exactly one head;
//   - method, target and Host survive; framing is exactly the one we wrote;
//   - the end-to-end fields arrive in order with the same values, and nothing else is added
//     but Host, Via, X-Forwarded-For and the framing field.
// Input: the client's byte stream (each accepted head in it is checked).
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz/common/fuzz_target.h"
#include "parsers/http1/field_rules.h"
#include "parsers/http1/message_parser.h"
#include "parsers/uri/path_normalizer.h"
#include "proxy/http/head_writer.h"

namespace {

using namespace dpuguard::http1;
using dpuguard::proxy::BodyFraming;
using dpuguard::proxy::RequestForwarding;

// What the proxy would send for `head`, or false if it would refuse the path.
bool rebuild(const MessageHead& head, std::string& target, std::string& out, RequestForwarding& fwd) {
  std::string path;
  if (dpuguard::uri::normalizePath(head.request_target.path, {}, path) != dpuguard::uri::PathError::kNone) {
    return false;
  }
  target = path;
  if (!head.request_target.query.empty()) target += "?" + std::string(head.request_target.query);
  fwd.target = target;
  fwd.host = !head.host.empty() ? head.host : "127.0.0.1:8000";  // the proxy names the upstream then
  fwd.client_ip = "192.0.2.1";
  if (head.chunked) {
    fwd.framing = BodyFraming::kChunked;
  } else if (head.has_content_length) {
    fwd.framing = BodyFraming::kContentLength;
    fwd.content_length = head.content_length;
  }
  dpuguard::proxy::writeRequestHead(head, fwd, out);
  return true;
}

bool forwarded(const MessageHead& head, const HeaderField& f) {
  if (dpuguard::proxy::isHopByHop(f.name)) return false;
  for (const HeaderField& c : head.headers) {
    if (equalsIgnoreCase(c.name, "connection") && listContains(c.value, f.name)) return false;
  }
  return !equalsIgnoreCase(f.name, "via") && !equalsIgnoreCase(f.name, "x-forwarded-for");
}

bool addedByUs(std::string_view name) {
  return equalsIgnoreCase(name, "host") || equalsIgnoreCase(name, "via") || equalsIgnoreCase(name, "x-forwarded-for") ||
         equalsIgnoreCase(name, "content-length") || equalsIgnoreCase(name, "transfer-encoding");
}

// Parses `rebuilt` and compares it with the original head; aborts on any difference.
void checkRebuilt(const MessageHead& original, const RequestForwarding& fwd, const std::string& rebuilt) {
  MessageParser p(MessageParser::Kind::kRequest, Limits::unbounded());
  NullBodySink sink;
  const ParseResult r = p.feed(rebuilt, sink);
  if (r.status != ParseStatus::kHeadComplete || r.consumed != rebuilt.size()) std::abort();
  const MessageHead& h = p.head();
  if (h.method != original.method || h.target != fwd.target || h.host != fwd.host || !h.isHttp11()) std::abort();
  if (h.chunked != (fwd.framing == BodyFraming::kChunked)) std::abort();
  if (h.has_content_length != (fwd.framing == BodyFraming::kContentLength)) std::abort();
  if (h.has_content_length && h.content_length != original.content_length) std::abort();
  size_t next = 0;  // the original's end-to-end fields, in order
  for (const HeaderField& f : h.headers) {
    if (addedByUs(f.name)) continue;
    while (next < original.headers.size() && !forwarded(original, original.headers[next])) ++next;
    if (next == original.headers.size()) std::abort();  // a field we did not receive
    const HeaderField& o = original.headers[next++];
    if (f.name != o.name || f.value != o.value) std::abort();
  }
  while (next < original.headers.size()) {
    if (forwarded(original, original.headers[next++])) std::abort();  // a field was lost
  }
}

// Runs every head of `input`; returns how many were rebuilt and checked.
int run(std::string_view input) {
  Limits limits;
  limits.max_header_bytes = 4096;
  limits.max_headers = 32;
  MessageParser p(MessageParser::Kind::kRequest, limits);
  NullBodySink sink;
  std::string target;
  std::string out;
  int checked = 0;
  size_t pos = 0;
  for (int guard = 0; guard < 64; ++guard) {
    const ParseResult r = p.feed(input.substr(pos), sink);
    pos += r.consumed;
    if (r.status == ParseStatus::kHeadComplete) {
      RequestForwarding fwd;
      out.clear();
      if (rebuild(p.head(), target, out, fwd)) {
        checkRebuilt(p.head(), fwd, out);
        ++checked;
      }
    } else if (r.status != ParseStatus::kMessageComplete) {
      break;
    }
  }
  return checked;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run(dpuguard::fuzz::asText(data, size));
  return 0;
}

std::string dpuguard::fuzz::describeInput(std::string_view input) {
  const int n = run(input);
  return n == 0 ? "no-head-rebuilt" : "rebuilt:" + std::to_string(n) + (n == 1 ? "-head" : "-heads");
}
