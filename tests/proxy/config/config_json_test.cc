// configToJson: what /config shows, and what it never shows (redactedKey, header values).
#include "proxy/config/config_json.h"

#include <gtest/gtest.h>

namespace dpuguard::proxy {
namespace {

TEST(ConfigJsonTest, DefaultPatternsRedactSecretsNotLookAlikes) {
  const std::vector<std::string>& d = AdminConfig{}.redact;
  for (const char* secret :
       {"api_key", "x-api-key", "apikey", "token", "access_token", "secret", "client_secret",
        "secrets", "password", "db_passwd", "Authorization", "credentials", "cookie"}) {
    EXPECT_TRUE(redactedKey(secret, d)) << secret;
  }
  for (const char* plain : {"max_tokens", "tokens_per_minute", "keyboard", "name", "path",
                            "endpoints", "monkey_business"}) {
    EXPECT_FALSE(redactedKey(plain, d)) << plain;
  }
}

TEST(ConfigJsonTest, HeaderMatchValuesAndListedKeysNeverAppear) {
  Config c;
  RouteConfig r;
  r.name = "keyed";
  r.match.headers.push_back({"x-api-key", "sk-live-0123456789", false});
  r.match.headers.push_back({"x-present", "", true});
  r.canaries.push_back("canary-secret-1");
  c.routes.push_back(r);
  c.logging.flow_log = "/var/log/secret-place.log";
  c.admin.enabled = true;
  c.admin.redact = {"flow_log"};
  const std::string json = configToJson(c);
  EXPECT_EQ(json.find("sk-live"), std::string::npos) << json;
  EXPECT_EQ(json.find("canary-secret"), std::string::npos) << json;
  EXPECT_EQ(json.find("secret-place"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"name":"x-api-key","value":"[redacted]"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"name":"x-present"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("canaries":1)"), std::string::npos) << json;
}

}  // namespace
}  // namespace dpuguard::proxy
