// MethodGate: the method token, checked and resolved before llhttp reads it.
#include "parsers/http1/method_gate.h"

#include <llhttp.h>

#include "parsers/http1/field_rules.h"
#include "parsers/http1/limits.h"

namespace dpuguard::http1 {
namespace {

static_assert(
    LLHTTP_VERSION_MAJOR == 8 && LLHTTP_VERSION_MINOR == 1,
    "the method table and the stand-in below are llhttp 8.1's: check them for this version");

// llhttp 8.1.0's HTTP methods (RTSP-only ones such as DESCRIBE, and PRI, are refused with an
// HTTP version), most frequent first.
constexpr std::string_view kLlhttpMethods[] = {"GET", "POST",
#define DPUGUARD_LLHTTP_METHOD(num, name, string) #string,
                                               HTTP_METHOD_MAP(DPUGUARD_LLHTTP_METHOD)
#undef DPUGUARD_LLHTTP_METHOD
};

// What llhttp reads in place of a method it does not know. PUT: llhttp gives it no meaning of
// its own (unlike CONNECT, HEAD for responses, SOURCE with ICE/, PRI) and allows it only with
// an HTTP/ version, as it would any method.
constexpr std::string_view kStandInMethod = "PUT";

}  // namespace

bool llhttpKnowsMethod(std::string_view method) {
  for (std::string_view known : kLlhttpMethods) {
    if (known == method) return true;
  }
  return false;
}

void MethodGate::start(bool active) {
  state_ = active ? State::kBeforeMethod : State::kResolved;
  begin_ = nullptr;
  length_ = 0;
  offset_ = 0;
  for_llhttp_ = {};
}

MethodGate::Step MethodGate::take(std::string_view data, uint64_t offset) {
  size_t i = 0;
  if (state_ == State::kBeforeMethod) {
    // Empty lines before the request line (RFC 9112 §2.2; HeadScanner allows CRLF pairs only).
    while (i < data.size() && (data[i] == '\r' || data[i] == '\n')) ++i;
    if (i == data.size()) return Step{i, false, ParseError::kNone, 0};
    state_ = State::kInMethod;
    begin_ = data.data() + i;
    offset_ = offset + i;
  } else if (state_ == State::kInMethod && !data.empty() && data.data() != begin_ + length_) {
    return Step{0, false, ParseError::kDiscontiguousInput, offset};
  } else if (state_ == State::kResolved) {
    return Step{0, true, ParseError::kNone, 0};
  }
  for (; i < data.size() && data[i] != ' '; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    // Lower case is refused, as nginx does: methods are case-sensitive (RFC 9110 §9.1), so
    // `delete` would pass a route or policy naming DELETE, and servers that upper-case
    // methods would then run it as DELETE.
    if (!isTchar(c) || (c >= 'a' && c <= 'z'))
      return Step{i, false, ParseError::kInvalidMethod, offset + i};
    if (length_ == kMaxMethodBytes) return Step{i, false, ParseError::kMethodTooLong, offset + i};
    ++length_;
  }
  if (i == data.size()) return Step{i, false, ParseError::kNone, 0};
  return resolve(i);
}

MethodGate::Step MethodGate::resolve(size_t at) {
  const std::string_view m = method();
  // HeadScanner refuses a request line starting with SP, so the method is never empty here.
  if (m.empty()) return Step{at, false, ParseError::kInvalidMethod, offset_};
  if (m == "CONNECT") return Step{at, false, ParseError::kConnectRefused, offset_};
  // "PRI * HTTP/2.0" opens an HTTP/2 connection (RFC 9113 §3.4): not for this listener.
  if (m == "PRI") return Step{at, false, ParseError::kUnsupportedVersion, offset_};
  for_llhttp_ = llhttpKnowsMethod(m) ? m : kStandInMethod;
  state_ = State::kResolved;
  return Step{at, true, ParseError::kNone, 0};
}

}  // namespace dpuguard::http1
