#include "parsers/http1/chunk_ext_grammar.h"

#include "parsers/http1/field_rules.h"

namespace dpuguard::http1 {
namespace {

// qdtext (RFC 9110 §5.6.4): HTAB, SP, %x21, %x23-5B, %x5D-7E, obs-text
bool isQdtext(unsigned char c) { return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c != 0x5c && c != 0x7f); }

// what may follow a backslash in a quoted-pair: HTAB, SP, VCHAR, obs-text
bool isQuotable(unsigned char c) { return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f); }

}  // namespace

size_t ChunkExtGrammar::feed(std::string_view piece) {
  for (size_t i = 0; i < piece.size(); ++i) {
    const auto c = static_cast<unsigned char>(piece[i]);
    switch (state_) {
      case State::kNameStart:
      case State::kName:
        if (!isTchar(c)) return i;
        state_ = State::kName;
        break;
      case State::kValueStart:
        if (c == '"') state_ = State::kQuoted;
        else if (isTchar(c)) state_ = State::kToken;
        else return i;
        break;
      case State::kToken:
        if (!isTchar(c)) return i;
        break;
      case State::kQuoted:
        if (c == '"') state_ = State::kClosed;
        else if (c == '\\') state_ = State::kEscape;
        else if (!isQdtext(c)) return i;
        break;
      case State::kEscape:
        if (!isQuotable(c)) return i;
        state_ = State::kQuoted;
        break;
      case State::kClosed:
        return i;  // nothing may follow the closing quote
    }
  }
  return kOk;
}

}  // namespace dpuguard::http1
