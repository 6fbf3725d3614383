// readClusterTls: clusters[].tls, checked key by key, then built once (TlsClientContext).
#include "proxy/loader/cluster_tls_loader.h"

#include <algorithm>

#include "proxy/loader/tls_files.h"
#include "proxy/tls/tls_client_context.h"

namespace dpuguard::proxy {
namespace {

const Keys kClusterTlsKeys = {"ca_file",   "verify",   "server_name",
                              "cert_file", "key_file", "min_version"};

}  // namespace

bool isDnsName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t dot = std::min(s.find('.', start), s.size());
    const std::string_view label = s.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    const bool chars_ok = std::all_of(label.begin(), label.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (!chars_ok) return false;
    start = dot + 1;
  }
  return true;
}

void readClusterTls(Context& ctx, const YAML::Node& node, ClusterConfig& cluster) {
  const std::string what = "cluster '" + cluster.name + "' tls";
  if (node.IsScalar() || node.IsNull()) {
    // One shape only: a mapping. `tls: true` would leave `tls: false` meaning "off" beside
    // a mapping meaning "on"; `tls: {}` says "on, defaults" without a second spelling.
    ctx.error(node.Mark(),
              what + " must be a mapping (write 'tls: {}' for TLS with the " +
                  "defaults, or leave 'tls' out for none); keys: " + joinKeys(kClusterTlsKeys));
    return;
  }
  const size_t errors_before = ctx.errors().size();
  MapReader r(ctx, node, what, kClusterTlsKeys);
  if (!r.valid()) return;
  ClusterTlsConfig& t = cluster.tls;
  t.enabled = true;
  r.readString("ca_file", t.ca_file);
  r.readBool("verify", t.verify);
  r.readString("server_name", t.server_name);
  r.readString("cert_file", t.cert_file);
  r.readString("key_file", t.key_file);
  r.readEnum("min_version", t.min_version, kTlsVersionNames);
  t.ca_file = resolveConfigPath(ctx, t.ca_file);
  t.cert_file = resolveConfigPath(ctx, t.cert_file);
  t.key_file = resolveConfigPath(ctx, t.key_file);

  if (YAML::Node n = r.get("server_name"); n.IsDefined() && n.IsScalar()) {
    if (!isDnsName(t.server_name) && !tls::isIpLiteral(t.server_name)) {
      ctx.error(n.Mark(), what + ": server_name '" + t.server_name +
                              "' must be a DNS name (api.example.com) or an IP address");
    }
  }
  if (YAML::Node n = r.get("ca_file"); n.IsDefined() && !t.verify) {
    ctx.error(n.Mark(), what + ": ca_file has no use with 'verify: false' (nothing is checked)");
  }
  if (t.cert_file.empty() != t.key_file.empty()) {
    ctx.error(r.get(t.cert_file.empty() ? "key_file" : "cert_file").Mark(),
              what + (t.cert_file.empty() ? ": key_file needs cert_file (the client certificate)"
                                          : ": cert_file needs key_file (its private key)"));
  }
  if (std::any_of(cluster.endpoints.begin(), cluster.endpoints.end(),
                  [](const Endpoint& e) { return e.isHost(); })) {
    ctx.error(node.Mark(), what + ": host:// endpoints are reached over shared memory, not " +
                               "TCP; TLS applies to HOST:PORT endpoints only");
  }
  if (!t.ca_file.empty()) checkReadableFile(ctx, r.get("ca_file"), what + " ca_file", t.ca_file);
  if (!t.ca_file.empty()) {
    if (const std::string why = writableByOthersProblem(t.ca_file); !why.empty())
      ctx.error(r.get("ca_file").Mark(), what + " ca_file: " + why);
  }
  if (!t.cert_file.empty() && !t.key_file.empty()) {
    checkReadableFile(ctx, r.get("cert_file"), what + " cert_file", t.cert_file);
    if (const std::string why = privateKeyFileProblem(t.key_file); !why.empty())
      ctx.error(r.get("key_file").Mark(), what + ": " + why);
  }
  if (ctx.errors().size() != errors_before) return;

  // The files are usable as files: now as TLS material (PEM, a certificate, a matching key).
  tls::TlsClientContext::Error error;
  t.context = tls::TlsClientContext::create(t, &error);
  if (!t.context) {
    const YAML::Node at = error.key.empty() ? node : r.get(error.key);
    ctx.error(at.IsDefined() ? at.Mark() : node.Mark(), what + ": " + error.message);
  }
}

}  // namespace dpuguard::proxy
