// Names and status codes for ParseError, one table row per value.
#include "parsers/http1/parse_error.h"

#include <array>

namespace dpuguard::http1 {
namespace {

struct ErrorInfo {
  ParseError error;
  std::string_view name;
  int status;
};

constexpr std::array<ErrorInfo, kParseErrorCount> kErrors = {{
    {ParseError::kNone, "none", 200},
    {ParseError::kHeadTooLarge, "head_too_large", 431},
    {ParseError::kTooManyHeaders, "too_many_headers", 431},
    {ParseError::kUriTooLong, "uri_too_long", 414},
    {ParseError::kHeaderNameTooLong, "header_name_too_long", 431},
    {ParseError::kHeaderValueTooLong, "header_value_too_long", 431},
    {ParseError::kChunkExtensionTooLong, "chunk_extension_too_long", 400},
    {ParseError::kTrailersTooLarge, "trailers_too_large", 431},
    {ParseError::kBareCr, "bare_cr", 400},
    {ParseError::kBareLf, "bare_lf", 400},
    {ParseError::kObsFold, "obs_fold", 400},
    {ParseError::kEmptyHeaderName, "empty_header_name", 400},
    {ParseError::kNulByte, "nul_byte", 400},
    {ParseError::kControlCharacter, "control_character", 400},
    {ParseError::kBadRequestLine, "bad_request_line", 400},
    {ParseError::kHttp09, "http09_request", 400},
    {ParseError::kUnsupportedVersion, "unsupported_version", 505},
    {ParseError::kFragmentInTarget, "fragment_in_target", 400},
    {ParseError::kInvalidTarget, "invalid_target", 400},
    {ParseError::kMissingHost, "missing_host", 400},
    {ParseError::kDuplicateHost, "duplicate_host", 400},
    {ParseError::kInvalidHost, "invalid_host", 400},
    {ParseError::kHostMismatch, "host_mismatch", 400},
    {ParseError::kInvalidContentLength, "invalid_content_length", 400},
    {ParseError::kDuplicateContentLength, "duplicate_content_length", 400},
    {ParseError::kContentLengthWithTransferEncoding, "content_length_with_transfer_encoding", 400},
    {ParseError::kInvalidTransferEncoding, "invalid_transfer_encoding", 400},
    {ParseError::kUnknownTransferCoding, "unknown_transfer_coding", 501},
    {ParseError::kMultipleTransferEncoding, "multiple_transfer_encoding", 400},
    {ParseError::kTransferEncodingOnHttp10, "transfer_encoding_on_http10", 400},
    {ParseError::kForbiddenTrailerField, "forbidden_trailer_field", 400},
    {ParseError::kInvalidChunkSize, "invalid_chunk_size", 400},
    {ParseError::kInvalidChunk, "invalid_chunk", 400},
    {ParseError::kConnectionNamesFramingHeader, "connection_names_framing_header", 400},
    {ParseError::kUnderscoreFramingField, "underscore_framing_field", 400},
    {ParseError::kH2cUpgrade, "h2c_upgrade", 400},
    {ParseError::kUnsupportedExpectation, "unsupported_expectation", 417},
    {ParseError::kConnectRefused, "connect_refused", 501},
    {ParseError::kUnsolicitedUpgrade, "unsolicited_upgrade", 502},
    {ParseError::kMethodTooLong, "method_too_long", 501},
    {ParseError::kPathNulByte, "path_nul_byte", 400},
    {ParseError::kPathEscapedSlash, "path_escaped_slash", 400},
    {ParseError::kPathBadEscape, "path_bad_escape", 400},
    {ParseError::kInvalidMethod, "invalid_method", 400},
    {ParseError::kInvalidVersion, "invalid_version", 400},
    {ParseError::kInvalidHeaderToken, "invalid_header_token", 400},
    {ParseError::kInvalidConstant, "invalid_constant", 400},
    {ParseError::kInvalidStatus, "invalid_status", 400},
    {ParseError::kLineEnding, "invalid_line_ending", 400},
    {ParseError::kUnexpectedSpace, "unexpected_space", 400},
    {ParseError::kStrict, "strict_violation", 400},
    {ParseError::kClosedConnection, "data_after_close", 400},
    {ParseError::kTruncated, "truncated", 400},
    {ParseError::kDiscontiguousInput, "discontiguous_input", 400},
    {ParseError::kOther, "other", 400},
}};

// The table is indexed by the enum; a row out of place is a compile error, not a wrong name.
constexpr bool tableInOrder() {
  for (size_t i = 0; i < kErrors.size(); ++i) {
    if (static_cast<size_t>(kErrors[i].error) != i) return false;
  }
  return true;
}
static_assert(tableInOrder(), "kErrors rows must follow the ParseError order");

const ErrorInfo& info(ParseError e) {
  const auto i = static_cast<size_t>(e);
  return i < kErrors.size() ? kErrors[i] : kErrors.back();
}

}  // namespace

std::string_view parseErrorName(ParseError e) { return info(e).name; }

int statusFor(ParseError e) { return info(e).status; }

}  // namespace dpuguard::http1
