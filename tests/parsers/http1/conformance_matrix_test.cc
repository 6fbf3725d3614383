// The HTTP/1.1 conformance matrix: every smuggling technique in HTTP_HARDENING.md, named after
// the technique or CVE it reproduces, with the verdict dpuguard must reach, and the RFC-valid
// forms it must accept (issue 22: OWS and leading zeros in Content-Length, unregistered
// methods, any number of chunk extensions). Each case is fed whole, byte by byte and at every
// two-way split, with body bytes in place and moved between feeds (parse_transcript.h); all
// must produce the same transcript and payload, and its verdict ("ok:N" = N complete messages,
// or "error:<ParseError name>") must match, as must the de-chunked payload where one is given.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/parsers/http1/parse_transcript.h"

namespace dpuguard::http1 {
namespace {

using namespace std::string_view_literals;  // inputs may hold NUL bytes

struct Case {
  const char* name;
  std::string_view input;
  const char* verdict;
  Limits limits = {};
  std::string_view payload = {};  // set: every body byte of the stream, de-chunked
};

constexpr std::string_view kChunkedPost =
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
constexpr std::string_view kChunkedResponse =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

// Stores the strings the cases below are built from (kCases holds views of them).
std::string_view keep(std::string s) {
  static std::vector<std::unique_ptr<std::string>> kept;
  kept.push_back(std::make_unique<std::string>(std::move(s)));
  return *kept.back();
}

// A chunked POST whose first chunk-size line is "5" + `ext`, carrying "hello".
std::string_view chunkedWithExt(std::string_view ext) {
  return keep(std::string(kChunkedPost) + "5" + std::string(ext) + "\r\nhello\r\n0\r\n\r\n");
}

// A POST with the given Content-Length field value and a body of "hello".
std::string_view postWithLength(std::string_view value) {
  return keep("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:" + std::string(value) +
              "\r\n\r\nhello");
}

// A request with the given method.
std::string_view withMethod(std::string_view method) {
  return keep(std::string(method) + " / HTTP/1.1\r\nHost: a\r\n\r\n");
}

Limits small(uint32_t Limits::*field, uint32_t value) {
  Limits l;
  l.*field = value;
  return l;
}

// "ok:N" or "error:<name>" from a transcript.
std::string verdictOf(const std::string& transcript) {
  if (const size_t e = transcript.find("error:"); e != std::string::npos) return transcript.substr(e);
  size_t ends = 0;
  for (size_t at = transcript.find("<end"); at != std::string::npos; at = transcript.find("<end", at + 1)) ++ends;
  return "ok:" + std::to_string(ends);
}

// clang-format off
const Case kRequestCases[] = {
    // ---- Well-formed requests that must pass untouched.
    {"valid_simple_get", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:1"},
    {"valid_http10_without_host", "GET / HTTP/1.0\r\n\r\n"sv, "ok:1"},
    {"valid_http10_keep_alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"sv, "ok:1"},
    {"valid_post_content_length", "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"sv, "ok:1"},
    {"valid_post_content_length_zero", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"sv, "ok:1"},
    {"valid_post_chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"sv, "ok:1"},
    {"valid_chunked_uppercase_coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n"sv, "ok:1"},
    {"valid_chunked_hex_upper_and_lower", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"sv, "ok:1"},
    {"valid_chunk_extension_is_dropped_not_refused", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n"sv, "ok:1"},
    {"valid_chunk_extension_quoted", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;n=\"v\"\r\nhello\r\n0\r\n\r\n"sv, "ok:1"},
    {"valid_trailer_field", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Checksum: abc\r\n\r\n"sv, "ok:1"},
    {"valid_pipelined_three", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:3"},
    {"valid_pipelined_after_chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:2"},
    {"valid_options_asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:1"},
    {"valid_absolute_form_matching_host", "GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:1"},
    {"valid_absolute_form_matching_host_and_port", "GET http://a:8080/x?q=1 HTTP/1.1\r\nHost: A:8080\r\n\r\n"sv, "ok:1"},
    {"valid_host_ipv6_literal", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"sv, "ok:1"},
    {"valid_expect_100_continue", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"sv, "ok:1"},
    {"ats_2024_56202_body_sent_with_expect_is_one_request", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:2"},
    {"valid_upgrade_websocket_continues_as_plain_http", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"sv, "ok:1"},
    {"valid_leading_empty_line_rfc9112_2_2", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:1"},
    {"cve_2019_18802_trailing_whitespace_in_value_is_trimmed", "GET / HTTP/1.1\r\nHost: a \t\r\nX: b  \r\n\r\n"sv, "ok:1"},
    {"valid_tab_inside_value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n"sv, "ok:1"},
    {"valid_obs_text_in_value", "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n"sv, "ok:1"},
    {"valid_empty_value", "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n"sv, "ok:1"},
    {"valid_te_with_ows", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  chunked \r\n\r\n0\r\n\r\n"sv, "ok:1"},
    {"valid_connection_close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"sv, "ok:1"},
    {"valid_connection_names_te", "GET / HTTP/1.1\r\nHost: a\r\nConnection: TE\r\nTE: trailers\r\n\r\n"sv, "ok:1"},
    {"valid_percent_encoded_target_left_to_normalizer", "GET /v1/%2e%2e/x%20y HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:1"},
    {"valid_query_string", "GET /search?q=a&b=c HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:1"},
    {"valid_many_headers_within_limit", "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"sv, "ok:1"},
    {"valid_header_name_case_insensitive_host", "GET / HTTP/1.1\r\nhOsT: a\r\n\r\n"sv, "ok:1"},
    {"valid_underscore_header_name_is_an_ordinary_field", "GET / HTTP/1.1\r\nHost: a\r\nX_Custom: 1\r\n\r\n"sv, "ok:1"},
    {"desync_guardian_transfer_underscore_encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n0\r\n\r\n"sv, "error:underscore_framing_field"},
    {"desync_guardian_content_underscore_length", "POST / HTTP/1.1\r\nHost: a\r\nContent_Length: 5\r\n\r\nhello"sv, "error:underscore_framing_field"},
    {"desync_guardian_transfer_multiple_delimiters_is_ordinary", "GET / HTTP/1.1\r\nHost: a\r\nTransfer___Encoding: chunked\r\n\r\n"sv, "ok:1"},

    // ---- obs-fold (RFC 9112 §5.2).
    {"obs_fold_space", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"sv, "error:obs_fold"},
    {"obs_fold_tab", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n"sv, "error:obs_fold"},
    {"obs_fold_right_after_request_line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n"sv, "error:obs_fold"},
    {"cve_2024_27982_obs_fold_before_content_length", "POST / HTTP/1.1\r\nHost: a\r\nX: a\r\n Content-Length: 5\r\n\r\nhello"sv, "error:obs_fold"},
    {"cve_2022_32215_folded_transfer_encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n , identity\r\n\r\n0\r\n\r\n"sv, "error:obs_fold"},
    {"cve_2025_32094_options_expect_folded_line", "OPTIONS * HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n x\r\n\r\n"sv, "error:obs_fold"},
    {"obs_fold_of_host", "GET / HTTP/1.1\r\nHost:\r\n a\r\n\r\n"sv, "error:obs_fold"},

    // ---- Empty field names.
    {"empty_header_name", "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n"sv, "error:empty_header_name"},
    {"cve_2023_25725_empty_name_truncating_the_list", "POST / HTTP/1.1\r\nHost: a\r\n:\r\nContent-Length: 5\r\n\r\nhello"sv, "error:empty_header_name"},
    {"empty_header_name_first_line", "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n"sv, "error:empty_header_name"},

    // ---- Bare CR / bare LF anywhere in the head.
    {"bare_lf_after_request_line", "GET / HTTP/1.1\nHost: a\r\n\r\n"sv, "error:bare_lf"},
    {"bare_lf_ending_a_field_line", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"sv, "error:bare_lf"},
    {"bare_lf_ending_the_head", "GET / HTTP/1.1\r\nHost: a\r\n\n"sv, "error:bare_lf"},
    {"bare_lf_everywhere", "GET / HTTP/1.1\nHost: a\n\n"sv, "error:bare_lf"},
    {"cve_2022_32214_bare_lf_as_header_delimiter", "POST / HTTP/1.1\r\nHost: a\r\nX: y\nContent-Length: 5\r\n\r\nhello"sv, "error:bare_lf"},
    {"cve_2022_35256_field_line_not_ending_in_crlf", "GET / HTTP/1.1\r\nHost: a\r\nX: y\n\r\n"sv, "error:bare_lf"},
    {"cve_2023_30589_bare_cr_as_line_terminator", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"sv, "error:bare_cr"},
    {"bare_cr_inside_value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"sv, "error:bare_cr"},
    {"cve_2025_23167_crlf_cr_x_ending_the_head", "GET / HTTP/1.1\r\nHost: a\r\n\rX"sv, "error:bare_cr"},
    {"cve_2020_8201_cr_in_header_name", "GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n"sv, "error:invalid_header_token"},
    {"bare_cr_in_request_line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:bare_cr"},
    {"bare_cr_before_request_line", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:bare_cr"},
    {"bare_lf_before_request_line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:bare_lf"},
    {"cr_cr_lf_line_end", "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n"sv, "error:bare_cr"},

    // ---- Request line and version.
    {"http09_request_line_without_version", "GET /x\r\n\r\n"sv, "error:http09_request"},
    {"llhttp_877_get_without_version_bare_lf", "GET /x\n"sv, "error:bare_lf"},
    {"http09_explicit_version", "GET / HTTP/0.9\r\nHost: a\r\n\r\n"sv, "error:unsupported_version"},
    {"http2_version_on_http1_connection", "GET / HTTP/2.0\r\nHost: a\r\n\r\n"sv, "error:unsupported_version"},
    {"http_1_2_version", "GET / HTTP/1.2\r\nHost: a\r\n\r\n"sv, "error:invalid_version"},
    {"http_3_0_version", "GET / HTTP/3.0\r\nHost: a\r\n\r\n"sv, "error:invalid_version"},
    {"h2_prior_knowledge_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"sv, "error:unsupported_version"},
    {"version_lowercase", "GET / http/1.1\r\nHost: a\r\n\r\n"sv, "error:invalid_constant"},
    {"version_two_digit_minor", "GET / HTTP/1.10\r\nHost: a\r\n\r\n"sv, "error:invalid_version"},
    {"version_missing_minor", "GET / HTTP/1\r\nHost: a\r\n\r\n"sv, "error:invalid_version"},
    {"double_space_after_method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:bad_request_line"},
    {"double_space_before_version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:bad_request_line"},
    {"leading_space_before_method", " GET / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:bad_request_line"},
    {"trailing_space_after_version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"sv, "error:bad_request_line"},
    {"tab_as_request_line_separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:bad_request_line"},
    {"space_inside_target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:invalid_constant"},
    {"request_line_without_target", "GET HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:invalid_target"},
    {"invalid_method_character", "G@T / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:invalid_method"},

    // ---- Methods (RFC 9110 §9.1: method = token, case-sensitive). llhttp 8.1.0 knows its own
    // table only; MethodGate checks the token and hands llhttp a stand-in (issue 22).
    {"valid_method_query_unregistered_in_llhttp", "QUERY /search HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nq=1"sv, "ok:1", {}, "q=1"sv},
    {"valid_method_with_dash", withMethod("FOO-BAR"), "ok:1"},
    {"valid_method_with_underscore_and_digit", withMethod("M_1"), "ok:1"},
    {"valid_method_every_tchar_symbol", withMethod("!#$%&'*+-.^_`|~09AZ"), "ok:1"},
    {"valid_method_unknown_foo", withMethod("FOO"), "ok:1"},
    {"valid_method_rtsp_only_in_llhttp", withMethod("DESCRIBE"), "ok:1"},
    {"valid_method_registered_webdav", withMethod("PROPFIND"), "ok:1"},
    {"valid_method_m_search", withMethod("M-SEARCH"), "ok:1"},
    // Case-sensitive, so "get" would be another method that passes a policy naming GET;
    // refused, as llhttp and nginx do (HAProxy accepts it; SECURITY.md).
    {"method_lowercase_refused", withMethod("get"), "error:invalid_method"},
    {"method_mixed_case_refused", withMethod("Delete"), "error:invalid_method"},
    {"method_lowercase_unregistered_refused", withMethod("query"), "error:invalid_method"},
    {"valid_method_at_length_cap", withMethod(std::string(32, 'M')), "ok:1"},
    {"valid_methods_pipelined_unregistered", "QUERY /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nxFOO /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:3", {}, "x"sv},
    {"valid_method_after_leading_empty_lines", "\r\n\r\nQUERY / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:1"},
    {"method_too_long", withMethod(std::string(33, 'M')), "error:method_too_long"},
    {"invalid_method_paren", withMethod("GE(T"), "error:invalid_method"},
    {"invalid_method_slash", withMethod("GET/1"), "error:invalid_method"},
    {"invalid_method_quote", withMethod("G\"T"), "error:invalid_method"},
    {"invalid_method_non_ascii", withMethod("G\xc3\xa9T"), "error:invalid_method"},
    {"invalid_method_colon", withMethod("GET:"), "error:invalid_method"},
    {"connect_lowercase_refused", "connect a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"sv, "error:invalid_method"},
    {"pri_method_with_http11", "PRI / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:unsupported_version"},
    {"unregistered_method_asterisk_form", "QUERY * HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:invalid_target"},
    {"unregistered_method_after_connection_close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nQUERY / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:data_after_close"},
    // llhttp 8.1.0 strict reads these as HTTP/1.0 requests; HeadScanner wants "HTTP/".
    {"rtsp_version_on_request_line", "GET / RTSP/1.0\r\nHost: a\r\n\r\n"sv, "error:invalid_constant"},
    {"ice_version_with_source", "SOURCE / ICE/1.0\r\nHost: a\r\n\r\n"sv, "error:invalid_constant"},
    {"unregistered_method_with_rtsp_version", "QUERY / RTSP/1.0\r\nHost: a\r\n\r\n"sv, "error:invalid_constant"},

    // ---- Request target.
    {"fragment_in_target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:fragment_in_target"},
    {"cve_2023_45539_hash_bypassing_path_acl", "GET /admin#/../public HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:fragment_in_target"},
    {"cve_2021_27577_fragment_cache_poisoning", "GET /index.html#frag HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:fragment_in_target"},
    {"fragment_in_absolute_form", "GET http://a/x#y HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:fragment_in_target"},
    {"nul_in_target", "GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:nul_byte"},
    {"ctl_in_target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:control_character"},
    {"del_in_target", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:control_character"},
    {"escape_in_target", "GET /a\x1b[0m HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:control_character"},
    {"non_ascii_in_target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:invalid_target"},
    {"asterisk_form_with_get", "GET * HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:invalid_target"},
    {"authority_form_with_get", "GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:invalid_target"},
    {"relative_target", "GET x HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:invalid_target"},
    {"absolute_form_with_userinfo", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:invalid_target"},
    {"connect_method_refused", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"sv, "error:connect_refused"},
    {"uri_too_long", "GET /0123456789abcdef HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:uri_too_long", small(&Limits::max_uri_bytes, 16)},

    // ---- Host.
    {"missing_host_http11", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"sv, "error:missing_host"},
    {"missing_host_absolute_form_http11", "GET http://a/ HTTP/1.1\r\n\r\n"sv, "error:missing_host"},
    {"duplicate_host_different", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"sv, "error:duplicate_host"},
    {"duplicate_host_equal", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"sv, "error:duplicate_host"},
    {"duplicate_host_case_variant_name", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"sv, "error:duplicate_host"},
    {"absolute_form_host_mismatch", "GET http://internal/admin HTTP/1.1\r\nHost: public\r\n\r\n"sv, "error:host_mismatch"},
    {"absolute_form_port_mismatch", "GET http://a:81/ HTTP/1.1\r\nHost: a:80\r\n\r\n"sv, "error:host_mismatch"},
    {"host_with_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"sv, "error:invalid_host"},
    {"host_with_slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"sv, "error:invalid_host"},
    {"host_with_userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"sv, "error:invalid_host"},
    {"host_empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n"sv, "error:invalid_host"},
    {"host_with_question_mark", "GET / HTTP/1.1\r\nHost: a?b\r\n\r\n"sv, "error:invalid_host"},

    // ---- Content-Length.
    // Accepted since issue 22 (RFC 9110 §8.6: 1*DIGIT; §5.6.3: OWS is SP or HTAB); the proxy
    // forwards one numeric Content-Length, so no next hop sees these spellings.
    {"valid_cl_leading_zeros", postWithLength(" 005"), "ok:1", {}, "hello"sv},
    {"valid_cl_leading_zero_request_zero", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 000\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "ok:2", {}, ""sv},
    {"valid_cl_300_digits_of_leading_zeros", postWithLength(" " + std::string(299, '0') + "5"), "ok:1", {}, "hello"sv},
    {"valid_cl_tab_ows", postWithLength("\t5\t"), "ok:1", {}, "hello"sv},
    {"valid_cl_mixed_ows", postWithLength(" \t 5 \t "), "ok:1", {}, "hello"sv},
    {"valid_cl_no_ows", postWithLength("5"), "ok:1", {}, "hello"sv},
    {"cl_over_2_63", postWithLength(" 9223372036854775808"), "error:invalid_content_length"},
    {"cl_19_digits_after_leading_zeros", postWithLength(" 0001000000000000000000"), "error:invalid_content_length"},
    {"cl_tab_inside_digits", postWithLength(" 5\t0"), "error:invalid_content_length"},
    {"cl_plus_after_tab", postWithLength("\t+5"), "error:invalid_content_length"},
    {"cl_leading_zeros_list", postWithLength(" 05, 5"), "error:invalid_content_length"},
    {"cl_duplicate_with_tab_and_zeros", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\t5\r\nContent-Length: 005\r\n\r\nhello"sv, "error:duplicate_content_length"},
    {"cl_te_with_leading_zeros", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 06\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX"sv, "error:content_length_with_transfer_encoding"},
    {"te_cl_with_tab_ows", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length:\t3\t\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n"sv, "error:content_length_with_transfer_encoding"},
    {"cl_plus_sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello"sv, "error:invalid_content_length"},
    {"cl_negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\nhello"sv, "error:invalid_content_length"},
    {"cve_2023_40225_empty_content_length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"sv, "error:invalid_content_length"},
    {"cl_space_inside_digits", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n0123456789"sv, "error:invalid_content_length"},
    {"cl_comma_list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello"sv, "error:invalid_content_length"},
    {"cl_hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello"sv, "error:invalid_content_length"},
    {"cve_2021_32565_invalid_content_length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5a\r\n\r\nhello"sv, "error:invalid_content_length"},
    {"cl_overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"sv, "error:invalid_content_length"},
    {"cl_duplicate_equal", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"sv, "error:duplicate_content_length"},
    {"cl_duplicate_different", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"sv, "error:duplicate_content_length"},
    {"cl_te_smuggling", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX"sv, "error:content_length_with_transfer_encoding"},
    {"te_cl_smuggling", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n"sv, "error:content_length_with_transfer_encoding"},
    {"cve_2021_22959_space_before_colon", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello"sv, "error:invalid_header_token"},
    {"cve_2021_40346_long_name_overflowing_into_cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: \r\nContent-Length: 5\r\n\r\nhello"sv, "error:header_name_too_long", small(&Limits::max_header_name_bytes, 32)},
    {"cl_with_trailing_ows_is_trimmed", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 \r\n\r\nhello"sv, "ok:1"},

    // ---- Transfer-Encoding.
    {"te_identity_then_chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n"sv, "error:unknown_transfer_coding"},
    {"te_leading_comma", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n"sv, "error:invalid_transfer_encoding"},
    {"te_trailing_comma", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n0\r\n\r\n"sv, "error:invalid_transfer_encoding"},
    {"te_chunked_twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"sv, "error:invalid_transfer_encoding"},
    {"te_gzip_chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"sv, "error:unknown_transfer_coding"},
    {"te_gzip_only", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n"sv, "error:unknown_transfer_coding"},
    {"te_empty_value", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n0\r\n\r\n"sv, "error:invalid_transfer_encoding"},
    {"te_quoted_chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n"sv, "error:unknown_transfer_coding"},
    {"te_chunked_with_parameter", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n"sv, "error:unknown_transfer_coding"},
    {"te_vertical_tab_before_chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0b" "chunked\r\n\r\n0\r\n\r\n"sv, "error:control_character"},
    {"te_two_headers", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"sv, "error:multiple_transfer_encoding"},
    {"cve_2020_8287_first_of_two_te_wins", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: eee\r\n\r\n0\r\n\r\n"sv, "error:multiple_transfer_encoding"},
    {"cve_2019_18277_te_without_chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"sv, "error:unknown_transfer_coding"},
    {"cve_2022_32213_te_chunked_then_garbage", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked , identity\r\n\r\n0\r\n\r\n"sv, "error:invalid_transfer_encoding"},
    {"ats_2021_37148_te_validation", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n"sv, "error:unknown_transfer_coding"},
    {"te_on_http10", "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"sv, "error:transfer_encoding_on_http10"},
    {"ats_2022_31778_te_is_hop_by_hop_via_connection", "POST / HTTP/1.1\r\nHost: a\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"sv, "error:connection_names_framing_header"},

    // ---- Chunked framing.
    {"chunk_size_0x_prefix", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk_size"},
    {"chunk_size_underscore", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1_0\r\n0123456789abcdef\r\n0\r\n\r\n"sv, "error:invalid_chunk_size"},
    {"chunk_size_negative", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk_size"},
    {"chunk_size_trailing_space", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk_size"},
    {"chunk_size_leading_space", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk_size"},
    {"chunk_size_overflow", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nx\r\n0\r\n\r\n"sv, "error:invalid_chunk_size"},
    {"chunk_size_empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk_size"},
    {"go_2025_22871_bare_lf_in_chunk_size_line", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk_size"},
    {"cve_2021_22960_bare_cr_in_chunk_extension", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk"},
    {"ats_2024_53868_bare_lf_in_chunk_extension", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\nc\r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk"},
    // Found by fuzz/targets/http1_chunked: llhttp 8.1.0 strict accepts these; RFC 9112 §7.1.1 does not.
    {"fuzz_chunk_ext_quote_after_token", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;n=q\"x y\"\r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk"},
    {"fuzz_chunk_ext_empty_name_after_value", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0;e=x;\r\n\r\n"sv, "error:invalid_chunk"},
    {"chunk_ext_empty_name_between_semicolons", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;e=x;;f\r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk"},
    {"valid_chunk_ext_two_quoted_values", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"x\";b=\"y\"\r\nhello\r\n0\r\n\r\n"sv, "ok:1"},
    {"valid_chunk_ext_names_only", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a;b\r\nhello\r\n0\r\n\r\n"sv, "ok:1"},
    {"fuzz_chunk_ext_text_after_quoted", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;n=\"x\"y\r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk"},
    // RFC 9110 allows a quoted-pair here; llhttp 8.1.0 does not. Stricter is the safe side.
    // RFC 9110 §5.6.4 allows a quoted-pair; llhttp 8.1.0 did not (ChunkLineScanner does).
    {"valid_chunk_ext_quoted_pair", chunkedWithExt(";n=\"a\\\"b\""), "ok:1", {}, "hello"sv},
    // Any number of extensions (RFC 9112 §7.1.1); llhttp 8.1.0 refuses the first four (issue 22).
    {"valid_chunk_ext_name_after_value", chunkedWithExt(";a=1;b"), "ok:1", {}, "hello"sv},
    {"valid_chunk_ext_two_values", chunkedWithExt(";a=1;b=2"), "ok:1", {}, "hello"sv},
    {"valid_chunk_ext_names_then_value", chunkedWithExt(";a;b;c=d"), "ok:1", {}, "hello"sv},
    {"valid_chunk_ext_quoted_then_more", chunkedWithExt(";a=\"x y\";b;c=\"z\";d=e"), "ok:1", {}, "hello"sv},
    {"valid_chunk_ext_bws_everywhere", chunkedWithExt(" ; a = 1 ;\tb\t=\t\"q\" ;c"), "ok:1", {}, "hello"sv},
    {"valid_chunk_ext_bws_before_first_semicolon", chunkedWithExt("\t;a"), "ok:1", {}, "hello"sv},
    {"valid_chunk_ext_obs_text_in_quoted", chunkedWithExt(";a=\"caf\xc3\xa9\""), "ok:1", {}, "hello"sv},
    {"valid_chunk_ext_on_every_chunk", keep(std::string(kChunkedPost) + "2;a=1;b\r\nhe\r\n3;c;d=\"e\"\r\nllo\r\n0;f=g;h\r\nX-T: 1\r\n\r\n"), "ok:1", {}, "hello"sv},
    {"valid_chunk_ext_at_the_limit", chunkedWithExt(";a=1;b=2"), "ok:1", small(&Limits::max_chunk_ext_bytes, 8), "hello"sv},
    {"chunk_ext_one_byte_over_the_limit", chunkedWithExt(";a=1;b=22"), "error:chunk_extension_too_long", small(&Limits::max_chunk_ext_bytes, 8)},
    {"valid_chunk_size_leading_zeros", keep(std::string(kChunkedPost) + "0005\r\nhello\r\n000\r\n\r\n"), "ok:1", {}, "hello"sv},
    {"valid_chunk_size_largest_digits", keep(std::string(kChunkedPost) + "00000000000000000000000000000000001\r\nx\r\n0\r\n\r\n"), "ok:1", {}, "x"sv},
    {"chunk_ext_empty_name_at_end", chunkedWithExt(";"), "error:invalid_chunk"},
    {"chunk_ext_empty_name_first", chunkedWithExt(";;a"), "error:invalid_chunk"},
    {"chunk_ext_empty_name_after_token_value", chunkedWithExt(";a=1;"), "error:invalid_chunk"},
    {"chunk_ext_empty_name_after_quoted_value", chunkedWithExt(";a=\"1\";"), "error:invalid_chunk"},
    {"chunk_ext_empty_name_before_value", chunkedWithExt(";=1"), "error:invalid_chunk"},
    {"chunk_ext_empty_value", chunkedWithExt(";a="), "error:invalid_chunk"},
    {"chunk_ext_empty_value_then_more", chunkedWithExt(";a=;b"), "error:invalid_chunk"},
    {"chunk_ext_bws_then_another_name", chunkedWithExt(";a b"), "error:invalid_chunk"},
    {"chunk_ext_bws_before_crlf", chunkedWithExt(";a=1 "), "error:invalid_chunk"},
    {"chunk_ext_value_then_bws_then_text", chunkedWithExt(";a=1 b"), "error:invalid_chunk"},
    {"chunk_ext_non_token_name", chunkedWithExt(";a(b"), "error:invalid_chunk"},
    {"chunk_ext_non_token_value", chunkedWithExt(";a=(b"), "error:invalid_chunk"},
    {"chunk_ext_comma_list", chunkedWithExt(";a=1,b=2"), "error:invalid_chunk"},
    {"chunk_ext_unterminated_quoted", chunkedWithExt(";a=\"x"), "error:invalid_chunk"},
    {"chunk_ext_ctl_in_quoted", chunkedWithExt(";a=\"x\x01y\""), "error:invalid_chunk"},
    {"chunk_ext_bare_cr_after_name_value", chunkedWithExt(";a=1;b\rc"), "error:invalid_chunk"},
    {"chunk_ext_bare_lf_after_names", chunkedWithExt(";a;b\nc"), "error:invalid_chunk"},
    {"chunk_ext_nul_in_name", chunkedWithExt(";a\0b"sv), "error:invalid_chunk"},
    {"chunk_size_cr_without_lf", chunkedWithExt("\rx"), "error:invalid_chunk"},
    {"chunk_size_bws_then_crlf", chunkedWithExt("\t"), "error:invalid_chunk_size"},
    {"chunk_size_seventeen_significant_digits", keep(std::string(kChunkedPost) + "10000000000000000\r\nx\r\n0\r\n\r\n"), "error:invalid_chunk_size"},
    {"chunk_extension_bare_lf_terminator", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk"},
    {"cve_2024_22019_unbounded_chunk_extension", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\nx\r\n0\r\n\r\n"sv, "error:chunk_extension_too_long", small(&Limits::max_chunk_ext_bytes, 64)},
    {"h11_2025_43859_any_two_bytes_after_chunk_data", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"sv, "error:invalid_chunk"},
    {"chunk_data_followed_by_bare_lf", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n"sv, "error:invalid_chunk"},
    {"chunk_data_longer_than_size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk"},
    {"ats_2021_37149_chunk_size_line_with_garbage", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n"sv, "error:invalid_chunk_size"},
    {"last_chunk_with_extension_then_trailer_smuggle", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0;x\r\nContent-Length: 5\r\n\r\n"sv, "error:forbidden_trailer_field"},

    // ---- Trailers.
    {"trailer_content_length", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n"sv, "error:forbidden_trailer_field"},
    {"trailer_transfer_encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n"sv, "error:forbidden_trailer_field"},
    {"trailer_host", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nHost: evil\r\n\r\n"sv, "error:forbidden_trailer_field"},
    {"trailer_connection", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nConnection: close\r\n\r\n"sv, "error:forbidden_trailer_field"},
    {"trailer_name_case_variant", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\ncOnTeNt-LeNgTh: 5\r\n\r\n"sv, "error:forbidden_trailer_field"},
    {"trailer_bare_lf", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\nZ: w\r\n\r\n"sv, "error:bare_lf"},
    {"trailer_section_ended_by_bare_lf", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"sv, "error:bare_lf"},
    {"trailer_bare_cr", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\rZ: w\r\n\r\n"sv, "error:bare_cr"},
    {"trailer_obs_fold", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n z\r\n\r\n"sv, "error:obs_fold"},
    {"trailer_empty_name", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n: y\r\n\r\n"sv, "error:empty_header_name"},
    {"trailer_nul_in_value", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\0b\r\n\r\n"sv, "error:nul_byte"},
    {"trailers_too_large", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 0123456789012345678901234567890123456789\r\n\r\n"sv, "error:trailers_too_large", small(&Limits::max_trailer_bytes, 32)},
    {"too_many_trailer_fields", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"sv, "error:too_many_headers", small(&Limits::max_headers, 2)},

    // ---- Connection, Upgrade, Expect.
    {"cve_2026_26365_connection_names_transfer_encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: Transfer-Encoding\r\n\r\n0\r\n\r\n"sv, "error:connection_names_framing_header"},
    {"connection_names_content_length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: Content-Length\r\n\r\nhello"sv, "error:connection_names_framing_header"},
    {"connection_names_host", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, Host\r\n\r\n"sv, "error:connection_names_framing_header"},
    {"connection_names_content_length_in_list", "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive , content-length\r\n\r\n"sv, "error:connection_names_framing_header"},
    {"h2c_upgrade", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"sv, "error:h2c_upgrade"},
    {"h2c_upgrade_without_settings", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"sv, "error:h2c_upgrade"},
    {"h2c_in_upgrade_list", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket, H2C\r\nConnection: Upgrade\r\n\r\n"sv, "error:h2c_upgrade"},
    {"http2_settings_without_upgrade", "GET / HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"sv, "error:h2c_upgrade"},
    {"data_after_upgrade_is_parsed_as_http", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello"sv, "error:invalid_method"},
    {"expect_unknown_expectation", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx"sv, "error:unsupported_expectation"},
    {"expect_continue_with_parameter", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue;x=1\r\nContent-Length: 1\r\n\r\nx"sv, "error:unsupported_expectation"},

    // ---- NUL and other CTL bytes in field lines.
    {"cve_2019_9900_nul_in_header_value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"sv, "error:nul_byte"},
    {"nul_in_host_value", "GET / HTTP/1.1\r\nHost: a\0.evil\r\n\r\n"sv, "error:nul_byte"},
    {"nul_in_header_name", "GET / HTTP/1.1\r\nHost: a\r\nX\0Y: b\r\n\r\n"sv, "error:nul_byte"},
    {"ctl_in_header_value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n"sv, "error:control_character"},
    {"del_in_header_value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f" "b\r\n\r\n"sv, "error:control_character"},
    {"vertical_tab_in_value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x0b" "b\r\n\r\n"sv, "error:control_character"},
    {"form_feed_in_value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x0c" "b\r\n\r\n"sv, "error:control_character"},
    {"ctl_in_header_name", "GET / HTTP/1.1\r\nHost: a\r\nX\x01Y: b\r\n\r\n"sv, "error:control_character"},

    // ---- Field-name syntax (llhttp's token check).
    {"space_in_header_name", "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n"sv, "error:invalid_header_token"},
    {"header_line_without_colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"sv, "error:invalid_header_token"},
    {"non_ascii_header_name", "GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: b\r\n\r\n"sv, "error:invalid_header_token"},
    {"tab_before_colon", "GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n"sv, "error:invalid_header_token"},
    {"header_name_with_slash", "GET / HTTP/1.1\r\nHost: a\r\nX/Y: b\r\n\r\n"sv, "error:invalid_header_token"},

    // ---- Limits.
    {"head_too_large", "GET / HTTP/1.1\r\nHost: a\r\nX: 01234567890123456789012345678901234567890123456789\r\n\r\n"sv, "error:head_too_large", small(&Limits::max_header_bytes, 48)},
    {"too_many_headers", "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n"sv, "error:too_many_headers", small(&Limits::max_headers, 2)},
    {"header_name_too_long", "GET / HTTP/1.1\r\nHost: a\r\nX-0123456789abcdef0123456789abcdef: b\r\n\r\n"sv, "error:header_name_too_long", small(&Limits::max_header_name_bytes, 16)},
    {"header_value_too_long", "GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789abcdef0123456789abcdef\r\n\r\n"sv, "error:header_value_too_long", small(&Limits::max_header_value_bytes, 16)},
    {"head_exactly_at_limit", "GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789abcd\r\n\r\n"sv, "ok:1", small(&Limits::max_header_bytes, 46)},
};

const Case kResponseCases[] = {
    {"resp_valid_content_length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"sv, "ok:1"},
    {"resp_valid_chunked_sse", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n0f\r\ndata: {\"a\":1}\n\n\r\n0\r\n\r\n"sv, "ok:1"},
    {"resp_valid_204_no_body", "HTTP/1.1 204 No Content\r\n\r\n"sv, "ok:1"},
    {"resp_204_with_content_length_has_no_body", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"sv, "ok:2"},
    {"resp_304_with_content_length_has_no_body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"sv, "ok:2"},
    {"resp_204_with_transfer_encoding_has_no_body", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"sv, "ok:2"},
    {"resp_100_continue_then_final", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"sv, "ok:2"},
    {"resp_1xx_with_content_length_has_no_body", "HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"sv, "ok:2"},
    {"resp_valid_reason_with_spaces_and_tab", "HTTP/1.1 404 Not \tFound here\r\nContent-Length: 0\r\n\r\n"sv, "ok:1"},
    {"resp_valid_empty_reason", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"sv, "ok:1"},
    {"resp_valid_http10", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"sv, "ok:1"},
    {"resp_valid_trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nGrpc-Status: 0\r\n\r\n"sv, "ok:1"},
    {"cve_2024_23326_200_with_upgrade_is_not_a_tunnel", "HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"sv, "ok:2"},
    {"resp_unsolicited_101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"sv, "error:unsolicited_upgrade"},
    {"resp_bare_lf_status_line", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"sv, "error:bare_lf"},
    {"resp_bare_lf_end_of_head", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n"sv, "error:bare_lf"},
    {"resp_bare_cr_in_reason", "HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n"sv, "error:bare_cr"},
    {"resp_obs_fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n"sv, "error:obs_fold"},
    {"resp_empty_header_name", "HTTP/1.1 200 OK\r\n: a\r\nContent-Length: 0\r\n\r\n"sv, "error:empty_header_name"},
    {"resp_nul_in_value", "HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n"sv, "error:nul_byte"},
    {"resp_duplicate_content_length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi"sv, "error:duplicate_content_length"},
    {"resp_valid_content_length_leading_zero", "HTTP/1.1 200 OK\r\nContent-Length: 02\r\n\r\nhi"sv, "ok:1", {}, "hi"sv},
    {"resp_valid_content_length_tab_ows", "HTTP/1.1 200 OK\r\nContent-Length:\t2\t\r\n\r\nhi"sv, "ok:1", {}, "hi"sv},
    {"resp_204_with_leading_zero_length_has_no_body", "HTTP/1.1 204 No Content\r\nContent-Length: 05\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"sv, "ok:2", {}, ""sv},
    {"resp_content_length_over_2_63", "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n"sv, "error:invalid_content_length"},
    {"resp_valid_chunk_ext_name_after_value", keep(std::string(kChunkedResponse) + "5;a=1;b\r\nhello\r\n0;c;d=2\r\n\r\n"), "ok:1", {}, "hello"sv},
    {"resp_valid_sse_chunks_with_extensions", keep(std::string(kChunkedResponse) + "0f;id=1;t=\"x\"\r\ndata: {\"a\":1}\n\n\r\n7 ;last\r\ndata: \n\r\n0\r\n\r\n"), "ok:1", {}, "data: {\"a\":1}\n\ndata: \n"sv},
    {"resp_chunk_ext_empty_name", keep(std::string(kChunkedResponse) + "1;;a\r\nx\r\n0\r\n\r\n"), "error:invalid_chunk"},
    {"resp_content_length_empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"sv, "error:invalid_content_length"},
    {"resp_cl_with_te", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"sv, "error:content_length_with_transfer_encoding"},
    {"resp_te_gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx"sv, "error:unknown_transfer_coding"},
    {"resp_te_identity_chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n"sv, "error:unknown_transfer_coding"},
    {"resp_te_chunked_twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"sv, "error:invalid_transfer_encoding"},
    {"resp_two_te_headers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"sv, "error:multiple_transfer_encoding"},
    {"resp_te_on_http10", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"sv, "error:transfer_encoding_on_http10"},
    {"resp_connection_names_content_length", "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 2\r\n\r\nhi"sv, "error:connection_names_framing_header"},
    {"resp_version_http2", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"sv, "error:unsupported_version"},
    {"resp_version_http09", "HTTP/0.9 200 OK\r\nContent-Length: 0\r\n\r\n"sv, "error:unsupported_version"},
    {"resp_status_four_digits", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"sv, "error:invalid_status"},
    {"resp_status_two_digits", "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n"sv, "error:invalid_status"},
    {"resp_status_missing", "HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n"sv, "error:invalid_status"},
    {"resp_garbage_instead_of_status_line", "<html>hello</html>\r\n\r\n"sv, "error:invalid_constant"},
    {"resp_chunk_size_0x", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\nx\r\n0\r\n\r\n"sv, "error:invalid_chunk_size"},
    {"resp_chunk_bytes_after_data", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxYY0\r\n\r\n"sv, "error:invalid_chunk"},
    {"resp_chunk_extension_too_long", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n"sv, "error:chunk_extension_too_long", small(&Limits::max_chunk_ext_bytes, 32)},
    {"resp_trailer_content_length", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n"sv, "error:forbidden_trailer_field"},
    {"resp_trailer_bare_lf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n"sv, "error:bare_lf"},
    {"resp_head_too_large", "HTTP/1.1 200 OK\r\nX: 0123456789012345678901234567890123456789\r\n\r\n"sv, "error:head_too_large", small(&Limits::max_header_bytes, 40)},
    {"resp_too_many_headers", "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"sv, "error:too_many_headers", small(&Limits::max_headers, 2)},
    {"resp_space_before_colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi"sv, "error:invalid_header_token"},
    {"resp_ctl_in_value", "HTTP/1.1 200 OK\r\nX: a\x01" "b\r\nContent-Length: 0\r\n\r\n"sv, "error:control_character"},
};
// clang-format on

class RequestMatrix : public ::testing::TestWithParam<Case> {};
class ResponseMatrix : public ::testing::TestWithParam<Case> {};

void check(const Case& c, MessageParser::Kind kind) {
  Options o;
  o.kind = kind;
  o.limits = c.limits;
  const std::string input(c.input);
  // Asserts that whole, byte-by-byte and every two-way split agree, body bytes moved or not.
  const SplitRun run = runAllSplitsWithPayload(input, o);
  EXPECT_EQ(verdictOf(run.transcript), c.verdict) << "transcript: " << run.transcript;
  if (c.payload.data() != nullptr) {
    EXPECT_EQ(run.payload, c.payload) << "transcript: " << run.transcript;
  }
}

TEST_P(RequestMatrix, SameVerdictWholeBytewiseAndAtEverySplit) { check(GetParam(), MessageParser::Kind::kRequest); }
TEST_P(ResponseMatrix, SameVerdictWholeBytewiseAndAtEverySplit) { check(GetParam(), MessageParser::Kind::kResponse); }

std::string caseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Http1, RequestMatrix, ::testing::ValuesIn(kRequestCases), caseName);
INSTANTIATE_TEST_SUITE_P(Http1, ResponseMatrix, ::testing::ValuesIn(kResponseCases), caseName);

TEST(ConformanceMatrix, HasTheCasesTheIssueAsksFor) {
  EXPECT_GE(std::size(kRequestCases), 150u);
  EXPECT_GE(std::size(kResponseCases), 40u);
}

}  // namespace
}  // namespace dpuguard::http1
