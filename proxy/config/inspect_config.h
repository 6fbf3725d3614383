// Inspection settings of a config snapshot (CONFIG.md "identities", "api_keys", "policy"): who
// a client is (mTLS certificate, API key, CIDR -> workload identity) and what each identity
// may reach. Plain aggregates; the
// compiled forms live in proxy/inspect/, which includes this file, never the reverse.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/config/enum_names.h"
#include "proxy/config/inference_config.h"
#include "proxy/core/ip_prefix.h"

namespace dpuguard::proxy {

// Built by the loader (proxy/loader/) with proxy/inspect/, both layers above this one; held
// here only by pointer.
namespace inspect {
class ApiKeyTable;
class EdgeBaseline;
class SignatureSet;
}  // namespace inspect

struct IdentityLabel {
  std::string cidr;  // as written, for /config and errors
  IpPrefix prefix;
  std::string identity;  // e.g. spiffe://cluster/ns/research/sa/notebook
};

// Where a client's identity came from, strongest first: the order of precedence the exchange
// inspector applies (the verified mTLS certificate's SPIFFE ID, then a known API key, then a
// host channel label, then the config's address labels or the unknown identity).
enum class IdentitySource : uint8_t { kMtls, kApiKey, kHostLabel, kAddress };
inline constexpr EnumName<IdentitySource> kIdentitySourceNames[] = {
    {"mtls", IdentitySource::kMtls},
    {"api_key", IdentitySource::kApiKey},
    {"host_label", IdentitySource::kHostLabel},
    {"address", IdentitySource::kAddress},
};
// A set of sources, one bit per IdentitySource (policy rules' identity_from, /edges).
using IdentitySources = uint8_t;
constexpr IdentitySources sourceBit(IdentitySource s) {
  return static_cast<IdentitySources>(1u << static_cast<unsigned>(s));
}
// Only these prove who the client is; an address (or a host's label for it) can be spoofed.
inline constexpr IdentitySources kCryptographicSources =
    sourceBit(IdentitySource::kMtls) | sourceBit(IdentitySource::kApiKey);

// routes[].api_key: whether a route reads `Authorization: Bearer KEY` (api_keys.file).
enum class ApiKeyMode : uint8_t {
  kOff,       // the Authorization header is not ours: passed on untouched
  kOptional,  // no header is fine; a header that is present must carry a known key
  kRequired,  // a known key or 401
};
inline constexpr EnumName<ApiKeyMode> kApiKeyModeNames[] = {
    {"off", ApiKeyMode::kOff},
    {"optional", ApiKeyMode::kOptional},
    {"required", ApiKeyMode::kRequired},
};

// api_keys: the key file (SHA-256 digests of keys with their identity, never a key itself).
struct ApiKeysConfig {
  std::string file;                                   // as resolved (relative to the config's dir)
  std::shared_ptr<const inspect::ApiKeyTable> table;  // loaded with each snapshot; null: none
};

enum class PolicyMode : uint8_t {
  kOff,      // no policy: every request that routes is allowed
  kRules,    // rules, then the default
  kLearn,    // rules, and every allowed identity -> route edge is recorded in the baseline
  kEnforce,  // rules, and an edge missing from the baseline is blocked or alerted
};
inline constexpr EnumName<PolicyMode> kPolicyModeNames[] = {
    {"off", PolicyMode::kOff},
    {"rules", PolicyMode::kRules},
    {"learn", PolicyMode::kLearn},
    {"enforce", PolicyMode::kEnforce},
};

enum class RuleAction : uint8_t { kAllow, kDeny };
inline constexpr EnumName<RuleAction> kRuleActionNames[] = {
    {"allow", RuleAction::kAllow},
    {"deny", RuleAction::kDeny},
};

struct PolicyRule {
  std::string id;
  std::vector<std::string> identities;  // empty = any (written "*")
  std::vector<std::string> routes;      // empty = any
  std::vector<std::string> methods;     // empty = any
  std::string path_prefix;              // empty = any; compared with the normalized path
  RuleAction action = RuleAction::kAllow;
  bool shadow = false;  // a deny is logged and counted as would-deny, and not enforced
  // identity_from: the sources this rule trusts (0 = any). A request the rule matches whose
  // identity came from another source is denied by this rule, whatever its action.
  IdentitySources identity_from = 0;
};

struct PolicyConfig {
  PolicyMode mode = PolicyMode::kOff;
  RuleAction default_action = RuleAction::kDeny;
  std::vector<PolicyRule> rules;                          // first match wins
  std::string baseline_file;                              // learn writes it, enforce reads it
  bool unknown_edge_block = true;                         // enforce: block (403) or only alert
  std::shared_ptr<const inspect::EdgeBaseline> baseline;  // enforce: loaded from baseline_file
};

struct SignaturesConfig {
  std::vector<std::string> files;  // rule files, relative to the config file's directory
  std::shared_ptr<const inspect::SignatureSet> set;  // compiled once per snapshot
};

struct InspectConfig {
  std::vector<IdentityLabel> identities;     // longest prefix wins
  std::string unknown_identity = "unknown";  // clients no label covers
  ApiKeysConfig api_keys;
  PolicyConfig policy;
  SignaturesConfig signatures;
  InferenceConfig inference;
  std::vector<RateLimitRule> rate_limits;
};

}  // namespace dpuguard::proxy
