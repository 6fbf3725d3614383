// The identity keys of the inspection config: api_keys (the key file, its own positioned
// errors), routes' api_key / pass_api_key, policy rules' identity_from; and /config, which
// names the key file but never holds a digest or a key.
#include "proxy/loader/inspect_config_loader.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "proxy/config/config_json.h"
#include "proxy/inspect/api_key_table.h"
#include "proxy/loader/config_loader.h"

namespace dpuguard::proxy {
namespace {

// A config with a keyed route, `top` added at the end (from line 8 on).
std::string withKeys(const std::string& top, const std::string& route_extra = "api_key: required") {
  return "listeners: [{name: public, address: \"127.0.0.1:8080\"}]\n"
         "clusters: [{name: llm, endpoints: [\"127.0.0.1:8000\"]}]\n"
         "routes:\n"
         "  - name: chat\n"
         "    cluster: llm\n"
         "    " +
         route_extra +
         "\n"
         "logging: {flow_log: off}\n" +
         top;
}

std::string errorsOf(const std::string& yaml, const std::string& name = "t.yaml") {
  LoadResult r = ConfigLoader::loadString(yaml, name);
  EXPECT_FALSE(r.ok());
  std::string s;
  for (const ConfigError& e : r.errors) s += e.toString() + "\n";
  return s;
}

std::string writeFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string digestOf(std::string_view key) {
  inspect::ApiKeyTable::Digest d{};
  EXPECT_TRUE(inspect::ApiKeyTable::digest(key, d));
  return inspect::ApiKeyTable::digestText(d);
}

TEST(InspectConfigLoaderTest, ApiKeysLoadTheKeyFileRelativeToTheConfig) {
  const std::string keys =
      writeFile("loader_keys.txt", "# keys\n" + digestOf("dpg_k1") + " team-a  # added\n");
  const std::string config = ::testing::TempDir() + "/loader_config.yaml";
  LoadResult r = ConfigLoader::loadString(
      withKeys("api_keys: {file: loader_keys.txt}\n", "api_key: optional\n    pass_api_key: true"),
      config);
  ASSERT_TRUE(r.ok()) << r.errors[0].toString();
  EXPECT_EQ(r.config->inspect.api_keys.file, keys);
  ASSERT_NE(r.config->inspect.api_keys.table, nullptr);
  EXPECT_EQ(r.config->inspect.api_keys.table->lookup("dpg_k1"), "team-a");
  EXPECT_EQ(r.config->routes[0].api_key, ApiKeyMode::kOptional);
  EXPECT_TRUE(r.config->routes[0].pass_api_key);
  // /config: the modes and the file's path; never a digest (nor, of course, a key).
  const std::string json = configToJson(*r.config);
  EXPECT_NE(json.find("\"api_key\":\"optional\",\"pass_api_key\":true"), std::string::npos);
  EXPECT_NE(json.find("\"api_keys\":{\"file\":\"" + keys + "\"}"), std::string::npos) << json;
  EXPECT_EQ(json.find("sha256"), std::string::npos);
  EXPECT_EQ(json.find(digestOf("dpg_k1").substr(7, 16)), std::string::npos);
  // Routes default to off, and keys are removed before the request goes upstream.
  LoadResult plain = ConfigLoader::loadString(withKeys("", "timeout_ms: 0"), "t.yaml");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain.config->routes[0].api_key, ApiKeyMode::kOff);
  EXPECT_FALSE(plain.config->routes[0].pass_api_key);
  EXPECT_EQ(plain.config->inspect.api_keys.table, nullptr);
  EXPECT_NE(configToJson(*plain.config).find("\"api_keys\":null"), std::string::npos);
}

TEST(InspectConfigLoaderTest, KeyFileErrorsNameTheKeyFilesLineAndColumn) {
  const std::string keys = writeFile("loader_bad_keys.txt", "# ok\n" + digestOf("a") +
                                                                " team-a\n"
                                                                "sha256:12ab team-b\n"
                                                                "dpg_plaintextkey team-c\n");
  EXPECT_EQ(errorsOf(withKeys("api_keys: {file: \"" + keys + "\"}\n")),
            keys +
                ":3:8: a SHA-256 digest is 64 hex digits (a key itself never goes in this file; "
                "'dpuguard keys add' writes its digest)\n" +
                keys + ":4:1: expected 'sha256:<64 hex digits> IDENTITY' (the key's digest)\n");
  // A file that cannot be read: the config's own position.
  EXPECT_EQ(errorsOf(withKeys("api_keys:\n  file: /nonexistent/keys.txt\n")),
            "t.yaml:9:9: api_keys: cannot read '/nonexistent/keys.txt': No such file or "
            "directory (dpuguard keys add IDENTITY --file FILE creates it)\n");
  EXPECT_EQ(errorsOf(withKeys("api_keys: {fil: x}\n")),
            "t.yaml:8:12: unknown key 'fil' in api_keys (did you mean 'file'?)\n"
            "t.yaml:8:11: api_keys is missing required key 'file'\n");
}

TEST(InspectConfigLoaderTest, RouteApiKeyNeedsAKeyFileAndAKnownMode) {
  EXPECT_EQ(errorsOf(withKeys("")),
            "t.yaml:6:14: route 'chat': api_key required needs a key file (api_keys: {file: "
            "FILE})\n");
  const std::string keys = writeFile("loader_empty_keys.txt", "");
  EXPECT_EQ(errorsOf(withKeys("api_keys: {file: \"" + keys + "\"}\n", "api_key: require")),
            "t.yaml:6:14: 'api_key' must be off, optional or required, got 'require' (did you "
            "mean 'required'?)\n");
  EXPECT_EQ(errorsOf(withKeys("", "pass_api_key: yes")),
            "t.yaml:6:19: 'pass_api_key' must be true or false, got 'yes'\n");
}

TEST(InspectConfigLoaderTest, IdentityFromIsAListOfSources) {
  const std::string rule = "policy: {mode: rules, rules: [{id: r, action: allow, identity_from: ";
  LoadResult ok =
      ConfigLoader::loadString(withKeys(rule + "[mtls, api_key]}]}\n", "timeout_ms: 0"), "t.yaml");
  ASSERT_TRUE(ok.ok()) << ok.errors[0].toString();
  EXPECT_EQ(ok.config->inspect.policy.rules[0].identity_from, kCryptographicSources);
  LoadResult any = ConfigLoader::loadString(
      withKeys("policy: {mode: rules, rules: [{id: r, action: allow}]}\n", "timeout_ms: 0"),
      "t.yaml");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any.config->inspect.policy.rules[0].identity_from, 0);
  EXPECT_EQ(errorsOf(withKeys(rule + "[mtls, apikey]}]}\n", "timeout_ms: 0")),
            "t.yaml:8:76: 'identity_from' entries must be mtls, api_key, host_label or "
            "address, got 'apikey' (did you mean 'api_key'?)\n");
  EXPECT_EQ(errorsOf(withKeys(rule + "[]}]}\n", "timeout_ms: 0")),
            "t.yaml:8:69: 'identity_from' must be a non-empty list of identity sources (mtls, "
            "api_key, host_label, address)\n");
}

}  // namespace
}  // namespace dpuguard::proxy
