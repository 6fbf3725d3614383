// clusters[].tls: a mapping turns TLS on; every key is read and checked with its position;
// files are refused before a connection would fail on them (missing, unreadable, a key open
// to group or others, not PEM, a key of another certificate); /config shows paths only.
#include "proxy/loader/cluster_tls_loader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "proxy/config/config_json.h"
#include "proxy/loader/config_loader.h"
#include "proxy/tls/tls_client_context.h"
#include "tests/proxy/tls/test_pki.h"

namespace dpuguard::proxy {
namespace {

using tls::testing::TestCert;
using tls::testing::TestPki;

// A config whose one cluster has `tls:` followed by `lines` (each indented under it). The
// first line of `lines` is line 8 of the file; its values start at column 7 + key length + 2.
std::string withTls(const std::string& lines, const std::string& endpoint = "127.0.0.1:8443") {
  return "listeners:\n  - name: public\n    address: 127.0.0.1:8080\nclusters:\n"
         "  - name: llm\n    endpoints: [\"" +
         endpoint + "\"]\n    tls:" + (lines.empty() ? " {}\n" : "\n" + lines) +
         "routes:\n  - name: all\n    cluster: llm\n";
}

std::string errorsOf(const std::string& yaml, const std::string& name = "t.yaml") {
  LoadResult r = ConfigLoader::loadString(yaml, name);
  EXPECT_FALSE(r.ok());
  std::string s;
  for (const ConfigError& e : r.errors) s += e.toString() + "\n";
  return s;
}

class ClusterTlsLoaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(::testing::TempDir() + "cluster-tls-pki");
    ca_ = &pki_->ca("ca");
    server_ = &pki_->leaf("server", *ca_, "DNS:api.test");
    client_ = &pki_->leaf("client", *ca_, "DNS:dpuguard.test");
  }
  static void TearDownTestSuite() { delete pki_; }

  static std::string write(const std::string& name, const std::string& text, mode_t mode) {
    const std::string path = pki_->dir() + "/" + name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }

  static TestPki* pki_;
  static const TestCert* ca_;
  static const TestCert* server_;
  static const TestCert* client_;
};
TestPki* ClusterTlsLoaderTest::pki_ = nullptr;
const TestCert* ClusterTlsLoaderTest::ca_ = nullptr;
const TestCert* ClusterTlsLoaderTest::server_ = nullptr;
const TestCert* ClusterTlsLoaderTest::client_ = nullptr;

TEST_F(ClusterTlsLoaderTest, AnEmptyMappingIsTlsWithEveryDefault) {
  LoadResult r = ConfigLoader::loadString(withTls(""), "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].toString();
  const ClusterTlsConfig& t = r.config->clusters[0].tls;
  EXPECT_TRUE(t.enabled);
  EXPECT_TRUE(t.verify);
  EXPECT_TRUE(t.ca_file.empty());  // the system's trust store
  EXPECT_TRUE(t.server_name.empty());
  EXPECT_EQ(t.min_version, TlsVersion::kTls12);
  ASSERT_NE(t.context, nullptr);
  EXPECT_TRUE(t.context->verifies());
}

TEST_F(ClusterTlsLoaderTest, NoTlsKeyIsPlainTcp) {
  LoadResult r = ConfigLoader::loadString(
      withTls("").replace(withTls("").find("    tls: {}\n"), 12, ""), "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].toString();
  EXPECT_FALSE(r.config->clusters[0].tls.enabled);
  EXPECT_EQ(r.config->clusters[0].tls.context, nullptr);
}

TEST_F(ClusterTlsLoaderTest, EveryKeyIsReadAndConfigShowsPathsOnly) {
  LoadResult r = ConfigLoader::loadString(
      withTls("      ca_file: " + ca_->cert_file + "\n      server_name: api.test\n" +
              "      cert_file: " + client_->cert_file + "\n      key_file: " + client_->key_file +
              "\n      min_version: \"1.3\"\n"),
      "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].toString();
  const ClusterTlsConfig& t = r.config->clusters[0].tls;
  EXPECT_EQ(t.ca_file, ca_->cert_file);
  EXPECT_EQ(t.server_name, "api.test");
  EXPECT_EQ(t.cert_file, client_->cert_file);
  EXPECT_EQ(t.key_file, client_->key_file);
  EXPECT_EQ(t.min_version, TlsVersion::kTls13);
  ASSERT_NE(t.context, nullptr);
  const std::string json = configToJson(*r.config);
  EXPECT_NE(json.find("\"tls\":{\"ca_file\":\"" + ca_->cert_file + "\",\"verify\":true," +
                      "\"server_name\":\"api.test\",\"cert_file\":\"" + client_->cert_file +
                      "\",\"key_file\":\"" + client_->key_file + "\",\"min_version\":\"1.3\"}"),
            std::string::npos)
      << json;
  EXPECT_EQ(json.find("BEGIN"), std::string::npos);
  EXPECT_EQ(json.find("PRIVATE"), std::string::npos);
}

TEST_F(ClusterTlsLoaderTest, OneShapeOnly) {
  const std::string e = errorsOf(withTls("").replace(withTls("").find("{}"), 2, "true"));
  EXPECT_NE(e.find("t.yaml:7:10: cluster 'llm' tls must be a mapping (write 'tls: {}' for TLS "
                   "with the defaults, or leave 'tls' out for none)"),
            std::string::npos)
      << e;
}

TEST_F(ClusterTlsLoaderTest, KeysArePositioned) {
  const std::string e =
      errorsOf(withTls("      server_nam: a.test\n      verify: yes\n      min_version: tls13\n"
                       "      server_name: \"-bad-.test\"\n"));
  EXPECT_NE(e.find("t.yaml:8:7: unknown key 'server_nam' in cluster 'llm' tls (did you mean "
                   "'server_name'?)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:9:15: 'verify' must be true or false, got 'yes'"), std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:10:20: 'min_version' must be 1.2 or 1.3, got 'tls13'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.yaml:11:20: cluster 'llm' tls: server_name '-bad-.test' must be a DNS "
                   "name (api.example.com) or an IP address"),
            std::string::npos)
      << e;
}

TEST_F(ClusterTlsLoaderTest, MissingAndUnreadableFiles) {
  const std::string unreadable = write("unreadable.pem", "x", 0000);
  std::string e = errorsOf(withTls("      ca_file: /nonexistent/ca.pem\n"));
  EXPECT_NE(e.find("t.yaml:8:16: cluster 'llm' tls ca_file: cannot read '/nonexistent/ca.pem': "
                   "No such file or directory"),
            std::string::npos)
      << e;
  if (::geteuid() != 0) {  // root reads a file whatever its mode
    e = errorsOf(withTls("      ca_file: " + unreadable + "\n"));
    EXPECT_NE(e.find("t.yaml:8:16: cluster 'llm' tls ca_file: cannot read '" + unreadable +
                     "': Permission denied"),
              std::string::npos)
        << e;
  }
  e = errorsOf(withTls("      ca_file: " + pki_->dir() + "\n"));
  EXPECT_NE(e.find("': not a regular file"), std::string::npos) << e;
}

TEST_F(ClusterTlsLoaderTest, AKeyOpenToGroupOrOthersIsRefused) {
  std::ifstream in(client_->key_file);
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string open_key = write("open.key", pem, 0640);
  const std::string e = errorsOf(
      withTls("      cert_file: " + client_->cert_file + "\n      key_file: " + open_key + "\n"));
  EXPECT_NE(e.find("t.yaml:9:17: cluster 'llm' tls: key_file '" + open_key +
                   "' is accessible by group or others (mode 0640); a private key must be "
                   "readable by its owner only (chmod 600)"),
            std::string::npos)
      << e;
}

TEST_F(ClusterTlsLoaderTest, ACertificateNeedsItsKeyAndTheKeyItsCertificate) {
  std::string e = errorsOf(withTls("      cert_file: " + client_->cert_file + "\n"));
  EXPECT_NE(e.find("t.yaml:8:18: cluster 'llm' tls: cert_file needs key_file (its private key)"),
            std::string::npos)
      << e;
  e = errorsOf(withTls("      key_file: " + client_->key_file + "\n"));
  EXPECT_NE(e.find("t.yaml:8:17: cluster 'llm' tls: key_file needs cert_file"), std::string::npos)
      << e;
  // A key that is not the certificate's.
  e = errorsOf(withTls("      cert_file: " + client_->cert_file +
                       "\n      key_file: " + server_->key_file + "\n"));
  EXPECT_NE(e.find("t.yaml:9:17: cluster 'llm' tls: "), std::string::npos) << e;
  EXPECT_NE(e.find("key values mismatch"), std::string::npos) << e;
}

TEST_F(ClusterTlsLoaderTest, FilesThatAreNotPemAreRefusedAtTheirKey) {
  const std::string junk = write("junk.pem", "not a certificate\n", 0600);
  std::string e = errorsOf(withTls("      ca_file: " + junk + "\n"));
  EXPECT_NE(
      e.find("t.yaml:8:16: cluster 'llm' tls: no CA certificate could be read from '" + junk + "'"),
      std::string::npos)
      << e;
  e = errorsOf(
      withTls("      cert_file: " + junk + "\n      key_file: " + client_->key_file + "\n"));
  EXPECT_NE(e.find("t.yaml:8:18: cluster 'llm' tls: no certificate chain could be read from '" +
                   junk + "'"),
            std::string::npos)
      << e;
}

TEST_F(ClusterTlsLoaderTest, VerifyOffIsExplicitAndTakesNoCa) {
  LoadResult r = ConfigLoader::loadString(withTls("      verify: false\n"), "t.yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].toString();
  EXPECT_FALSE(r.config->clusters[0].tls.context->verifies());
  const std::string e =
      errorsOf(withTls("      verify: false\n      ca_file: " + ca_->cert_file + "\n"));
  EXPECT_NE(e.find("t.yaml:9:16: cluster 'llm' tls: ca_file has no use with 'verify: false'"),
            std::string::npos)
      << e;
}

TEST_F(ClusterTlsLoaderTest, HostEndpointsTakeNoTls) {
  const std::string e = errorsOf(withTls("", "host://inference"));
  EXPECT_NE(e.find("t.yaml:7:10: cluster 'llm' tls: host:// endpoints are reached over shared "
                   "memory"),
            std::string::npos)
      << e;
}

TEST_F(ClusterTlsLoaderTest, RelativePathsAreTheConfigFilesDirectorys) {
  const std::string dir = pki_->dir();
  const std::string path = write("relative.yaml", withTls("      ca_file: ca.crt\n"), 0600);
  LoadResult r = ConfigLoader::loadFile(path);
  ASSERT_TRUE(r.ok()) << r.errors[0].toString();
  EXPECT_EQ(r.config->clusters[0].tls.ca_file, dir + "/ca.crt");
}

TEST(DnsNameTest, Rfc1123Names) {
  EXPECT_TRUE(isDnsName("api.example.com"));
  EXPECT_TRUE(isDnsName("localhost"));
  EXPECT_TRUE(isDnsName("a-b.c9"));
  EXPECT_FALSE(isDnsName(""));
  EXPECT_FALSE(isDnsName("a..b"));
  EXPECT_FALSE(isDnsName(".a"));
  EXPECT_FALSE(isDnsName("a."));
  EXPECT_FALSE(isDnsName("-a.b"));
  EXPECT_FALSE(isDnsName("a_b.c"));
  EXPECT_FALSE(isDnsName("*.example.com"));
  EXPECT_FALSE(isDnsName(std::string(64, 'a') + ".com"));
  EXPECT_TRUE(tls::isIpLiteral("10.0.0.1"));
  EXPECT_TRUE(tls::isIpLiteral("::1"));
  EXPECT_FALSE(tls::isIpLiteral("[::1]"));
  EXPECT_FALSE(tls::isIpLiteral("10.0.0.1:80"));
}

}  // namespace
}  // namespace dpuguard::proxy
