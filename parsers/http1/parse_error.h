// Why a message was rejected. One value per kind of rejection so metrics, flow logs and
// tests can name it; statusFor() maps each to the HTTP status a client should receive.
// The techniques each value defends against are listed in SECURITY.md.
#pragma once

#include <cstdint>
#include <string_view>

namespace dpuguard::http1 {

enum class ParseError : uint8_t {
  kNone = 0,
  // Limits (limits.h).
  kHeadTooLarge,
  kTooManyHeaders,
  kUriTooLong,
  kHeaderNameTooLong,
  kHeaderValueTooLong,
  kChunkExtensionTooLong,
  kTrailersTooLarge,
  // Line syntax, checked byte by byte before llhttp sees the bytes (HeadScanner).
  kBareCr,
  kBareLf,
  kObsFold,
  kEmptyHeaderName,
  kNulByte,
  kControlCharacter,
  kBadRequestLine,  // double space, missing or extra element
  kHttp09,          // request line without a version
  // Version and target.
  kUnsupportedVersion,
  kFragmentInTarget,
  kInvalidTarget,
  kMissingHost,
  kDuplicateHost,
  kInvalidHost,
  kHostMismatch,  // absolute-form authority differs from Host
  // Framing.
  kInvalidContentLength,
  kDuplicateContentLength,
  kContentLengthWithTransferEncoding,
  kInvalidTransferEncoding,  // not exactly one `chunked` (malformed list, repeated coding)
  kUnknownTransferCoding,    // a coding this proxy does not implement (501)
  kMultipleTransferEncoding,
  kTransferEncodingOnHttp10,
  kForbiddenTrailerField,
  kInvalidChunkSize,
  kInvalidChunk,  // chunk data not followed by CRLF, bad chunk extension
  // Connection management.
  kConnectionNamesFramingHeader,
  kUnderscoreFramingField,  // Content_Length, Transfer_Encoding...: CGI-style servers map '_' to '-'
  kH2cUpgrade,
  kUnsupportedExpectation,
  kConnectRefused,      // CONNECT: this proxy does not tunnel
  kUnsolicitedUpgrade,  // 101 response to a request that did not ask for an upgrade
  kMethodTooLong,       // a method token over kMaxMethodBytes (limits.h)
  // Path normalization (parsers/uri), reported by the proxy.
  kPathNulByte,
  kPathEscapedSlash,
  kPathBadEscape,
  // Mapped from llhttp's strict-mode errors.
  kInvalidMethod,
  kInvalidVersion,
  kInvalidHeaderToken,
  kInvalidConstant,
  kInvalidStatus,
  kLineEnding,
  kUnexpectedSpace,
  kStrict,
  kClosedConnection,  // data after Connection: close
  // Stream state.
  kTruncated,           // EOF inside a message
  kDiscontiguousInput,  // caller broke the feed contract (bytes moved mid-head)
  kOther,
};

inline constexpr int kParseErrorCount = static_cast<int>(ParseError::kOther) + 1;

// Stable snake_case name used in metrics labels and flow-log lines.
std::string_view parseErrorName(ParseError e);

// HTTP status to answer a *request* rejected with `e` (400, 414, 417, 431, 501 or 505).
int statusFor(ParseError e);

}  // namespace dpuguard::http1
