// Names and status codes for ParseError.
#include "parsers/http1/parse_error.h"

namespace dpuguard::http1 {

std::string_view parseErrorName(ParseError e) {
  switch (e) {
    case ParseError::kNone: return "none";
    case ParseError::kHeadTooLarge: return "head_too_large";
    case ParseError::kTooManyHeaders: return "too_many_headers";
    case ParseError::kUriTooLong: return "uri_too_long";
    case ParseError::kObsFold: return "obs_fold";
    case ParseError::kDiscontiguousInput: return "discontiguous_input";
    case ParseError::kInvalidMethod: return "invalid_method";
    case ParseError::kInvalidUrl: return "invalid_url";
    case ParseError::kInvalidVersion: return "invalid_version";
    case ParseError::kInvalidHeaderToken: return "invalid_header_token";
    case ParseError::kInvalidConstant: return "invalid_constant";
    case ParseError::kInvalidStatus: return "invalid_status";
    case ParseError::kInvalidContentLength: return "invalid_content_length";
    case ParseError::kUnexpectedContentLength: return "content_length_with_transfer_encoding";
    case ParseError::kInvalidTransferEncoding: return "invalid_transfer_encoding";
    case ParseError::kInvalidChunkSize: return "invalid_chunk_size";
    case ParseError::kLineEnding: return "invalid_line_ending";
    case ParseError::kUnexpectedSpace: return "unexpected_space";
    case ParseError::kStrict: return "strict_violation";
    case ParseError::kClosedConnection: return "data_after_close";
    case ParseError::kTruncated: return "truncated";
    case ParseError::kUpgradeRefused: return "upgrade_refused";
    case ParseError::kOther: return "other";
  }
  return "other";
}

int statusFor(ParseError e) {
  switch (e) {
    case ParseError::kHeadTooLarge:
    case ParseError::kTooManyHeaders: return 431;
    case ParseError::kUriTooLong: return 414;
    case ParseError::kInvalidTransferEncoding: return 501;
    default: return 400;
  }
}

}  // namespace dpuguard::http1
