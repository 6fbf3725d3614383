// Why a message was rejected. One value per kind of rejection so metrics, flow logs and
// tests can name it; statusFor() maps each to the HTTP status a client should receive.
#pragma once

#include <cstdint>
#include <string_view>

namespace dpuguard::http1 {

enum class ParseError : uint8_t {
  kNone = 0,
  // Limits (ours).
  kHeadTooLarge,      // 431
  kTooManyHeaders,    // 431
  kUriTooLong,        // 414
  // Our validation on top of llhttp.
  kObsFold,           // header continuation line (RFC 9112 §5.2)
  kDiscontiguousInput,  // caller broke the feed contract (bytes moved mid-head)
  // Mapped from llhttp's strict-mode errors.
  kInvalidMethod,
  kInvalidUrl,
  kInvalidVersion,
  kInvalidHeaderToken,
  kInvalidConstant,
  kInvalidStatus,
  kInvalidContentLength,
  kUnexpectedContentLength,   // Content-Length together with Transfer-Encoding
  kInvalidTransferEncoding,   // 501
  kInvalidChunkSize,
  kLineEnding,                // CR or LF expected / bare CR or LF
  kUnexpectedSpace,
  kStrict,                    // other strict-mode violation
  kClosedConnection,          // data after Connection: close
  kTruncated,                 // EOF inside a message
  kUpgradeRefused,            // upgrade / CONNECT: not supported by this proxy yet
  kOther,
};

inline constexpr int kParseErrorCount = static_cast<int>(ParseError::kOther) + 1;

// Stable snake_case name used in metrics labels and flow-log lines.
std::string_view parseErrorName(ParseError e);

// HTTP status to answer a *request* rejected with `e` (400, 414, 431 or 501).
int statusFor(ParseError e);

}  // namespace dpuguard::http1
