// MethodGate: holds a request's method token back from llhttp until the SP after it has
// arrived, checks it (RFC 9110 §9.1: method = token, case-sensitive; no lower case here), and says
// what llhttp is to read instead: the method itself when llhttp 8.1.0 knows it, else a stand-in
// method. llhttp only knows its own table and refuses valid unregistered methods (`QUERY`, `M_1`).
//
//   gate.start(true);
//   MethodGate::Step s = gate.take(scanned, offset);  // bytes the HeadScanner accepted
//   if (s.resolved) llhttp_execute(p, gate.forLlhttp()...), then the bytes from data[s.length] on
//
// Method bytes stay in the caller's buffer (head bytes never move, MessageParser's contract):
// method() is a view of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parsers/http1/parse_error.h"

namespace dpuguard::http1 {

class MethodGate {
 public:
  struct Step {
    size_t length = 0;      // bytes of `data` the gate took (empty lines before it, method bytes)
    bool resolved = false;  // the method is complete: data[length] is the SP after it
    ParseError error = ParseError::kNone;
    uint64_t error_offset = 0;  // message offset of the offending byte
  };

  // A new message. `active` false: nothing to hold back (responses; after Connection: close,
  // where llhttp refuses any byte itself).
  void start(bool active);
  bool pending() const { return state_ != State::kResolved; }

  // Takes the next bytes of the head (`offset` is data[0]'s offset in the message). Refuses a
  // byte that is not a tchar or is lower case (kInvalidMethod), a method over kMaxMethodBytes
  // (kMethodTooLong), CONNECT (kConnectRefused: no tunnels) and PRI (kUnsupportedVersion: the
  // HTTP/2 preface), and a method that does not continue the previous piece in memory
  // (kDiscontiguousInput).
  Step take(std::string_view data, uint64_t offset);

  // Valid once resolved: the method as sent, and what llhttp reads in its place.
  std::string_view method() const { return std::string_view(begin_, length_); }
  std::string_view forLlhttp() const { return for_llhttp_; }
  uint64_t methodOffset() const { return offset_; }

 private:
  enum class State : uint8_t { kBeforeMethod, kInMethod, kResolved };

  Step resolve(size_t at);

  State state_ = State::kResolved;
  const char* begin_ = nullptr;  // first method byte, in the caller's buffer
  uint32_t length_ = 0;
  uint64_t offset_ = 0;  // message offset of the first method byte
  std::string_view for_llhttp_;
};

// Whether llhttp 8.1.0 parses `method` with an HTTP/1.x version (its HTTP_METHOD_MAP).
bool llhttpKnowsMethod(std::string_view method);

}  // namespace dpuguard::http1
