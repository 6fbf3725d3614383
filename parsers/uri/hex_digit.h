// hexValue: a hex digit's value, or -1: the one place percent-decoding reads a digit.
#pragma once

namespace dpuguard::uri {

constexpr int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace dpuguard::uri
