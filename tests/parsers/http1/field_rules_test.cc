// field_rules: which fields cross a hop that frames the message anew (the shm host channel).
#include "parsers/http1/field_rules.h"

#include <gtest/gtest.h>

namespace dpuguard::http1 {
namespace {

TEST(FieldRulesTest, ReframingHopPassesEndToEndFieldsAndHostOnly) {
  for (const char* name : {"Content-Type", "x-request-id", "Host", "HOST", "Authorization", "Via"}) {
    EXPECT_TRUE(passesReframingHop(name)) << name;
  }
  for (const char* name : {"Content-Length", "transfer-encoding", "Transfer_Encoding", "Content_Length", "Connection",
                           "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Connection", "HTTP2-Settings",
                           "Expect", "Proxy-Authorization"}) {
    EXPECT_FALSE(passesReframingHop(name)) << name;
  }
}

}  // namespace
}  // namespace dpuguard::http1
