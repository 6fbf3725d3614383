// ChunkExtGrammar: checks chunk-extension names and values against RFC 9112 §7.1.1 for
// ChunkLineScanner. llhttp 8.1.0 accepts malformed extension values even in strict mode
// (`a=q"x y"`, found by the differential chunked fuzz target); we drop extensions when
// forwarding, but a proxy that accepts what the grammar forbids is one parse away from
// disagreeing with the next hop.
//
//   chunk-ext-name = token
//   chunk-ext-val  = token / quoted-string
//
// Names and values arrive in pieces; feed each piece, then call complete() at its end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dpuguard::http1 {

class ChunkExtGrammar {
 public:
  static constexpr size_t kOk = static_cast<size_t>(-1);

  void startName() { state_ = State::kNameStart; }
  void startValue() { state_ = State::kValueStart; }
  // Index in `piece` of the first byte that breaks the grammar, or kOk.
  size_t feed(std::string_view piece);
  // Whether the name or value fed since start*() is complete and well-formed.
  bool complete() const {
    return state_ == State::kName || state_ == State::kToken || state_ == State::kClosed;
  }

 private:
  enum class State : uint8_t { kNameStart, kName, kValueStart, kToken, kQuoted, kEscape, kClosed };
  State state_ = State::kNameStart;
};

}  // namespace dpuguard::http1
