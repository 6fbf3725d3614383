// FlowRecord: what one exchange's flow-log line and host flow event say. Plain views, filled
// by the session and the exchange inspector, valid until the exchange is over.
#pragma once

#include <cstdint>
#include <string_view>

namespace dpuguard::proxy {

struct FlowRecord {
  std::string_view measurement;  // the measurement id of the snapshot that judged it
  std::string_view listener;
  std::string_view client;  // ip:port
  std::string_view method;
  std::string_view path;
  std::string_view route;
  std::string_view cluster;
  std::string_view endpoint;
  int status = 0;
  uint64_t bytes_in = 0;     // request bytes received from the client (head + body)
  uint64_t bytes_out = 0;    // response bytes sent to the client
  int64_t upstream_us = -1;  // request sent -> response head; -1 if none
  int64_t total_us = 0;
  std::string_view reason;       // outcomeName()
  std::string_view parse_error;  // parseErrorName() when reason is bad_request
  // TLS to the upstream failed (upstream_tls_failed, or upstream_connect_timeout in the
  // handshake): tls::failureName(), and the certificate's refusal ("hostname mismatch").
  std::string_view upstream_tls_error;
  std::string_view upstream_tls_verify;
  // Inspection (only when the snapshot inspects): who the client is and what decided.
  std::string_view identity;
  std::string_view identity_source;  // mtls, api_key, host_label or address
  std::string_view rule;             // the rule whose verdict stands ("default" if none matched)
  std::string_view verdict;          // allow, deny, shadow_deny, unknown_edge, dpi_block, dpi_alert
  std::string_view dpi;              // ids of the signatures that matched, comma-separated
  // Inference routes: the requested model and the answer's tokens (usage, or counted).
  std::string_view model;
  int64_t prompt_tokens = -1;  // -1: not an inference exchange
  int64_t completion_tokens = -1;
  // When a fallback was tried: every attempt as a JSON array of {cluster, endpoint, status,
  // reason}, the last one the answer's.
  std::string_view attempts;
  // A TLS client connection: what it negotiated (empty protocol: plain TCP).
  std::string_view tls_protocol;
  std::string_view tls_cipher;
  std::string_view tls_sni;
  bool tls_resumed = false;
  bool tls_ktls = false;
};

}  // namespace dpuguard::proxy
