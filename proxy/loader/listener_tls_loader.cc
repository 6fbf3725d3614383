// listeners[].tls loading.
#include "proxy/loader/listener_tls_loader.h"

#include "proxy/loader/tls_files.h"
#include "proxy/tls/server_context.h"

namespace dpuguard::proxy {
namespace {

const Keys kTlsKeys = {"certificates",
                       "min_version",
                       "ciphers",
                       "ciphersuites",
                       "groups",
                       "handshake_timeout_ms",
                       "session_tickets",
                       "ticket_key_rotate_s",
                       "client_auth",
                       "ktls",
                       "max_pending_handshakes"};

void readCertificate(Context& ctx, const YAML::Node& n, const std::string& what,
                     TlsCertificateConfig& c) {
  MapReader r(ctx, n, what, {"cert_file", "key_file", "names"});
  r.require("cert_file");
  r.require("key_file");
  r.readString("cert_file", c.cert_file);
  r.readString("key_file", c.key_file);
  c.cert_file = resolveConfigPath(ctx, c.cert_file);  // relative: to the config file's directory
  c.key_file = resolveConfigPath(ctx, c.key_file);
  if (YAML::Node names = r.get("names"); names.IsDefined())
    c.names = readStringList(ctx, names, what + " names");
  if (!c.cert_file.empty())
    checkReadableFile(ctx, r.get("cert_file"), what + " cert_file", c.cert_file);
  if (!c.key_file.empty()) {
    if (const std::string why = privateKeyFileProblem(c.key_file); !why.empty())
      ctx.error(r.get("key_file").Mark(), what + ": " + why);
  }
  for (const std::string& name : c.names) {
    if (name.find('*') != std::string::npos &&
        (!name.starts_with("*.") || name.find('*', 1) != std::string::npos || name.size() < 4))
      ctx.error(r.get("names").Mark(),
                what + ": '" + name + "': a wildcard is '*.' and a domain (one label)");
  }
}

void readClientAuth(Context& ctx, const YAML::Node& n, const std::string& what,
                    ClientAuthConfig& a) {
  MapReader r(ctx, n, what, {"mode", "ca_file", "trust_domains", "verify_depth"});
  r.require("mode");
  r.require("ca_file");
  a.mode = ClientAuthMode::kRequire;
  r.readEnum("mode", a.mode, kClientAuthModeNames);
  r.readString("ca_file", a.ca_file);
  a.ca_file = resolveConfigPath(ctx, a.ca_file);
  if (const std::string why = writableByOthersProblem(a.ca_file); !why.empty())
    ctx.error(r.get("ca_file").Mark(), what + ": " + why);
  else if (!a.ca_file.empty())
    checkReadableFile(ctx, r.get("ca_file"), what + " ca_file", a.ca_file);
  r.readUint("verify_depth", a.verify_depth, 1, 16);
  if (YAML::Node td = r.get("trust_domains"); td.IsDefined())
    a.trust_domains = readStringList(ctx, td, what + " trust_domains");
}

}  // namespace

void readListenerTls(Context& ctx, const YAML::Node& node, const std::string& what,
                     ListenerTlsConfig& tls) {
  const size_t errors_before = ctx.errors().size();
  MapReader r(ctx, node, what, kTlsKeys);
  if (!r.valid()) return;
  tls.enabled = true;
  r.require("certificates");
  YAML::Node certs = r.get("certificates");
  if (certs.IsDefined() && (!certs.IsSequence() || certs.size() == 0)) {
    ctx.error(certs.Mark(), what + ": 'certificates' must be a non-empty list");
  } else if (certs.IsDefined()) {
    for (size_t i = 0; i < certs.size(); ++i) {
      TlsCertificateConfig c;
      readCertificate(ctx, certs[i], what + " certificate #" + std::to_string(i + 1), c);
      tls.certificates.push_back(std::move(c));
    }
  }
  r.readEnum("min_version", tls.min_version, kTlsVersionNames);
  r.readString("ciphers", tls.ciphers);
  r.readString("ciphersuites", tls.ciphersuites);
  r.readString("groups", tls.groups);
  r.readUint("handshake_timeout_ms", tls.handshake_timeout_ms, 1, kMaxTimeoutMs);
  r.readUint("max_pending_handshakes", tls.max_pending_handshakes, 1, 1u << 20);
  r.readBool("session_tickets", tls.session_tickets);
  r.readUint("ticket_key_rotate_s", tls.ticket_key_rotate_s, 60, 7 * 24 * 3600);
  r.readBool("ktls", tls.ktls);
  if (YAML::Node ca = r.get("client_auth"); ca.IsDefined())
    readClientAuth(ctx, ca, what + " client_auth", tls.client_auth);
  // Build a section that read cleanly: the contexts say what OpenSSL thinks of the files,
  // ciphers and groups.
  if (ctx.errors().size() != errors_before) return;
  std::string why;
  if (!tls::ServerContext::build(tls, std::make_shared<tls::TicketKeys>(0), &why))
    ctx.error(node.Mark(), what + ": " + why);
}

}  // namespace dpuguard::proxy
