#include "proxy/loader/inspect_config_loader.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "attest/regular_file.h"
#include "proxy/inspect/api_key_table.h"
#include "proxy/inspect/completion_scan.h"
#include "proxy/inspect/edge_baseline.h"
#include "proxy/inspect/signature_set.h"
#include "proxy/loader/signature_file_loader.h"
#include "proxy/loader/tls_files.h"

namespace dpuguard::proxy {
namespace {

// policy.unknown_edge: whether an edge missing from the baseline is blocked.
constexpr EnumName<bool> kUnknownEdgeNames[] = {{"block", true}, {"alert", false}};

void readIdentities(Context& ctx, MapReader& top, InspectConfig& in) {
  forEachItem(ctx, top.get("identities"), "identities", [&](const YAML::Node& n, size_t i) {
    MapReader r(ctx, n, "identity #" + std::to_string(i + 1), {"cidr", "identity"});
    r.require("cidr");
    r.require("identity");
    IdentityLabel label;
    r.readString("cidr", label.cidr);
    r.readString("identity", label.identity);
    if (YAML::Node c = r.get("cidr"); c.IsDefined() && !label.cidr.empty()) {
      std::string why;
      if (auto p = IpPrefix::parse(label.cidr, &why))
        label.prefix = *p;
      else
        ctx.error(c.Mark(), "identity '" + label.identity + "': " + why);
    }
    for (const IdentityLabel& other : in.identities) {
      if (!label.cidr.empty() && other.cidr == label.cidr) {
        ctx.error(n.Mark(), "cidr " + label.cidr + " is labelled twice ('" + other.identity +
                                "' and '" + label.identity + "')");
      }
    }
    in.identities.push_back(std::move(label));
  });
}

// The directory relative paths in the config are resolved against: the config file's.
std::string configDir(const std::string& file) {
  return file.find('/') == std::string::npos ? "." : file.substr(0, file.rfind('/'));
}

// api_keys: {file}: the key file is read and parsed with the snapshot (so SIGHUP re-reads
// it); its errors name the key file's own line and column.
void readApiKeys(Context& ctx, const YAML::Node& node, ApiKeysConfig& k) {
  MapReader r(ctx, node, "api_keys", {"file"});
  if (!r.require("file")) return;
  std::string path;
  r.readString("file", path);
  if (path.empty()) {
    ctx.error(r.get("file").Mark(), "api_keys: 'file' must be a path");
    return;
  }
  k.file = path[0] == '/' ? path : configDir(ctx.file()) + "/" + path;
  if (const std::string why = writableByOthersProblem(k.file); !why.empty()) {
    ctx.error(r.get("file").Mark(), "api_keys: " + why);
    return;
  }
  std::string text, why;
  if (!attest::readRegularFile(k.file, &text, &why)) {
    ctx.error(r.get("file").Mark(), "api_keys: cannot read '" + k.file + "': " + why +
                                        " (dpuguard keys add IDENTITY --file FILE creates it)");
    return;
  }
  ctx.measured("api_keys", k.file, text);
  std::vector<ConfigError> errors;
  k.table = inspect::ApiKeyTable::parse(text, k.file, &errors);
  for (ConfigError& e : errors) ctx.errors().push_back(std::move(e));
}

// identity_from: a non-empty list of identity sources.
IdentitySources readIdentityFrom(Context& ctx, const YAML::Node& n) {
  if (!n.IsSequence() || n.size() == 0) {
    ctx.error(n.Mark(),
              "'identity_from' must be a non-empty list of identity sources (mtls, "
              "api_key, host_label, address)");
    return 0;
  }
  IdentitySources set = 0;
  for (const YAML::Node& item : n) {
    IdentitySource s{};
    if (readEnum(ctx, item, "'identity_from' entries", s, kIdentitySourceNames))
      set |= sourceBit(s);
  }
  return set;
}

void readPolicy(Context& ctx, const YAML::Node& node, const Config& c, PolicyConfig& p) {
  MapReader r(ctx, node, "policy", {"mode", "default", "baseline_file", "unknown_edge", "rules"});
  p.mode = PolicyMode::kRules;
  r.readEnum("mode", p.mode, kPolicyModeNames);
  r.readEnum("default", p.default_action, kRuleActionNames);
  r.readString("baseline_file", p.baseline_file);
  r.readEnum("unknown_edge", p.unknown_edge_block, kUnknownEdgeNames);
  if ((p.mode == PolicyMode::kLearn || p.mode == PolicyMode::kEnforce) && p.baseline_file.empty()) {
    ctx.error(node.Mark(), "policy: mode learn and enforce need 'baseline_file'");
  }
  if ((p.mode == PolicyMode::kEnforce || p.mode == PolicyMode::kLearn) &&
      !p.baseline_file.empty()) {
    // Enforce needs the file; learn adds to it when it exists.
    std::string text, why;
    const bool absent = ::access(p.baseline_file.c_str(), F_OK) != 0 && errno == ENOENT;
    if (absent && p.mode == PolicyMode::kLearn) {
      // nothing learned yet
    } else if (!attest::readRegularFile(p.baseline_file, &text, &why)) {
      ctx.error(r.get("baseline_file").Mark(), "policy: cannot read baseline_file '" +
                                                   p.baseline_file + "': " + why +
                                                   " (run with mode learn first to write it)");
    } else {
      ctx.measured("baseline", p.baseline_file, text);
      std::vector<ConfigError> errors;
      p.baseline = std::make_shared<inspect::EdgeBaseline>(
          inspect::EdgeBaseline::parse(text, p.baseline_file, &errors));
      for (ConfigError& e : errors) ctx.errors().push_back(std::move(e));
    }
  }
  Keys route_names;
  for (const RouteConfig& rt : c.routes) route_names.push_back(rt.name);
  forEachItem(ctx, r.get("rules"), "rules", [&](const YAML::Node& n, size_t i) {
    PolicyRule rule;
    MapReader rr(ctx, n, "policy rule #" + std::to_string(i + 1),
                 {"id", "identities", "routes", "methods", "path_prefix", "action", "shadow",
                  "identity_from"});
    readRuleId(ctx, rr, "rule", rule.id);
    rr.require("action");
    rule.identities = readStringList(ctx, rr.get("identities"), "identities");
    rule.routes = readStringList(ctx, rr.get("routes"), "routes");
    checkNames(ctx, rr.get("routes"), rule.routes, route_names, "rule '" + rule.id + "'", "route");
    rule.methods = readStringList(ctx, rr.get("methods"), "methods");
    rr.readString("path_prefix", rule.path_prefix);
    if (YAML::Node pp = rr.get("path_prefix");
        pp.IsDefined() && (rule.path_prefix.empty() || rule.path_prefix[0] != '/')) {
      ctx.error(pp.Mark(), "'path_prefix' must start with '/'");
    }
    rr.readEnum("action", rule.action, kRuleActionNames);
    rr.readBool("shadow", rule.shadow);
    if (YAML::Node f = rr.get("identity_from"); f.IsDefined())
      rule.identity_from = readIdentityFrom(ctx, f);
    for (const PolicyRule& other : p.rules) {
      if (!rule.id.empty() && other.id == rule.id)
        ctx.error(n.Mark(), "duplicate policy rule id '" + rule.id + "'");
    }
    p.rules.push_back(std::move(rule));
  });
}

// Every route's canaries as completion signatures of that route (CompletionScan).
std::vector<inspect::Signature> canarySignatures(const std::string& file,
                                                 const std::vector<RouteConfig>& routes) {
  std::vector<inspect::Signature> out;
  for (size_t r = 0; r < routes.size(); ++r) {
    for (size_t i = 0; i < routes[r].canaries.size(); ++i) {
      out.push_back(inspect::canarySignature(routes[r].name, static_cast<int>(r), i + 1,
                                             routes[r].canaries[i]));
      out.back().file = file;
    }
  }
  return out;
}

void compileSignatures(Context& ctx, std::vector<inspect::Signature> all, SignaturesConfig& s) {
  ConfigError error;
  s.set = inspect::SignatureSet::compile(std::move(all), &error);
  if (!s.set) ctx.errors().push_back(std::move(error));
}

void readSignatures(Context& ctx, const YAML::Node& node, std::vector<inspect::Signature> canaries,
                    SignaturesConfig& s) {
  MapReader r(ctx, node, "signatures", {"files"});
  r.require("files");
  const std::string file = ctx.file();
  const std::string dir = configDir(file);
  std::vector<inspect::Signature> all;
  std::set<std::string> ids;
  YAML::Node files = r.get("files");
  if (files.IsDefined() && (!files.IsSequence() || files.size() == 0)) {
    ctx.error(files.Mark(), "signatures: 'files' must be a non-empty list of rule files");
    return;
  }
  if (!files.IsDefined()) return;
  for (const YAML::Node& f : files) {
    if (!f.IsScalar() || f.Scalar().empty()) {
      ctx.error(f.Mark(), "signatures: 'files' entries must be paths");
      continue;
    }
    const std::string path = f.Scalar()[0] == '/' ? f.Scalar() : dir + "/" + f.Scalar();
    s.files.push_back(path);
    std::vector<ConfigError> errors;
    std::string text;
    std::vector<inspect::Signature> loaded = loadSignatureFile(path, &errors, &text);
    if (errors.empty()) ctx.measured("rules", path, text);
    for (inspect::Signature& sig : loaded) {
      if (!sig.id.empty() && !ids.insert(sig.id).second) {
        errors.push_back(
            {sig.file, sig.line, sig.column, "signature id '" + sig.id + "' is defined twice"});
      }
      all.push_back(std::move(sig));
    }
    if (!errors.empty() && errors.front().line == 0)  // the file itself: say where it is named
      errors.front() = {file, f.Mark().line + 1, f.Mark().column + 1,
                        "'" + path + "': " + errors.front().message};
    for (ConfigError& e : errors) ctx.errors().push_back(std::move(e));
  }
  for (inspect::Signature& sig : canaries) {
    if (!ids.insert(sig.id).second) {
      ctx.errors().push_back(
          {file, 0, 0, "signature id '" + sig.id + "' is a rule file's and a route's canary"});
    }
    all.push_back(std::move(sig));
  }
  if (!ctx.errors().empty()) return;  // compile only a set that loaded cleanly
  compileSignatures(ctx, std::move(all), s);
}

}  // namespace

void readInspection(Context& ctx, MapReader& top, Config& c) {
  readIdentities(ctx, top, c.inspect);
  if (YAML::Node k = top.get("api_keys"); k.IsDefined()) readApiKeys(ctx, k, c.inspect.api_keys);
  if (YAML::Node p = top.get("policy"); p.IsDefined()) readPolicy(ctx, p, c, c.inspect.policy);
  std::vector<inspect::Signature> canaries = canarySignatures(ctx.file(), c.routes);
  if (YAML::Node s = top.get("signatures"); s.IsDefined()) {
    readSignatures(ctx, s, std::move(canaries), c.inspect.signatures);
  } else if (!canaries.empty() && ctx.errors().empty()) {
    compileSignatures(ctx, std::move(canaries), c.inspect.signatures);
  }
}

}  // namespace dpuguard::proxy
