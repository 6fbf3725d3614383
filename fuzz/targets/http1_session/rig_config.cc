// The SessionRig's config and signature rules, as text (see rig_config.h).
#include "fuzz/targets/http1_session/rig_config.h"

namespace dpuguard::fuzz::session {

// A few signatures in the shape of config/rules/: head rules block, body rules only alert
// (a streamed body block legitimately lets through a prefix that depends on the cuts; see
// the harness), prompt rules block (the prompt is read whole).
const std::string_view kRigRules = R"(rules:
  - id: fz-path-001
    pattern: '/etc/(?:passwd|shadow)\b'
    where: [path, query]
    action: block
    severity: high
  - id: fz-inj-001
    pattern: '\bunion\b[\s/*]+(?:all[\s/*]+)?select\b'
    where: [path, query, header]
    action: block
    severity: high
    caseless: true
  - id: fz-inj-006
    pattern: '\$\{jndi:(?:ldap|rmi|dns)s?://'
    where: [path, query, header]
    action: block
    severity: critical
  - id: fz-hdr-001
    pattern: '\bsqlmap/'
    where: [header]
    action: alert
    severity: low
    caseless: true
  - id: fz-body-001
    pattern: '\bunion\b[\s/*]+select\b'
    where: [body]
    action: alert
    severity: medium
    caseless: true
  - id: fz-body-002
    pattern: ';\s*drop\s+table\b'
    where: [body]
    action: alert
    severity: high
    caseless: true
  - id: fz-pi-001
    pattern: '\bignore\s{1,32}(?:all\s{1,32})?previous\s{1,32}instructions\b'
    where: [prompt]
    action: block
    severity: high
    caseless: true
  - id: fz-cred-001
    pattern: 'AKIA[0-9A-Z]{16}'
    where: [header, body, prompt]
    action: alert
    severity: high
)";

// Two clusters, routing, a policy per identity, signatures, inference with routing by model,
// a rate limit that never runs dry. Nothing that carries state from run to run into a
// verdict: no ejection, no token budget, no edge baseline.
std::string rigConfig(uint16_t api_port, uint16_t llm_port, const std::string& flow_log) {
  std::string api = "127.0.0.1:" + std::to_string(api_port);
  std::string llm = "127.0.0.1:" + std::to_string(llm_port);
  return R"(listeners:
  - name: public
    address: 127.0.0.1:9      # never bound: the rig hands the worker its client sockets
    limits: {max_header_bytes: 4096, max_headers: 32, max_uri_bytes: 1024, max_header_value_bytes: 2048,
             max_chunk_ext_bytes: 64, max_trailer_bytes: 512, max_body_bytes: 16384}
workers: 1
clusters:
  - name: api
    endpoints: [")" +
         api + R"("]
    eject_after_failures: 0
  - name: llm
    endpoints: [")" +
         llm + R"("]
    eject_after_failures: 0
routes:
  - name: chat
    match: {path_prefix: /v1/chat/completions, methods: [POST]}
    cluster: llm
  - name: completions
    match: {path_prefix: /v1/completions, methods: [POST]}
    cluster: llm
  - name: models
    match: {path_exact: /v1/models, methods: [GET, HEAD]}
    cluster: llm
  - name: upload
    match: {path_prefix: /upload}
    cluster: api
    limits: {max_body_bytes: 256, max_trailer_bytes: 64, max_headers: 16}
  - name: admin
    match: {path_prefix: /admin}
    cluster: api
  - name: tenant
    match: {path_prefix: /, host: tenant.example, headers: [{name: x-tenant, present: true}]}
    cluster: llm
  - name: other
    match: {path_prefix: /}
    cluster: api
identities:
  - cidr: 10.0.0.1/32
    identity: spiffe://fuzz/operator
  - cidr: 10.0.0.2/32
    identity: spiffe://fuzz/frontend
policy:
  mode: rules
  default: deny
  rules:
    - id: operator-all
      identities: ["spiffe://fuzz/operator"]
      routes: "*"
      action: allow
    - id: frontend-no-admin
      identities: ["spiffe://fuzz/frontend"]
      routes: [admin]
      action: deny
    - id: frontend-upload-shadow
      identities: ["spiffe://fuzz/frontend"]
      routes: [upload]
      action: deny
      shadow: true
    - id: frontend-rest
      identities: ["spiffe://fuzz/frontend"]
      routes: "*"
      action: allow
signatures:
  files: [rules.yaml]
inference:
  routes: [chat, completions]
  max_body_bytes: 8192
  models:
    fuzz-model: llm
    fuzz-small: api
  limits:
    - identities: ["spiffe://fuzz/frontend"]
      models: [fuzz-model]
      max_tokens: 256
      max_prompt_bytes: 2048
    - identities: "*"
      max_tokens: 4096
rate_limits:
  - id: never-dry
    identities: "*"
    rate: 1000000000/s
    burst: 1000000000
logging:
  flow_log: )" +
         flow_log + "\n";
}

}  // namespace dpuguard::fuzz::session
