// SPIFFE ID parsing (the X.509-SVID rules the listener applies to client certificates).
#include "proxy/tls/spiffe_id.h"

#include <gtest/gtest.h>

#include <string>

namespace dpuguard::proxy::tls {
namespace {

TEST(SpiffeIdTest, WellFormedIdsAndTheirTrustDomain) {
  std::string_view domain;
  EXPECT_TRUE(parseSpiffeId("spiffe://prod.example/ns/lab/sa/notebook", &domain));
  EXPECT_EQ(domain, "prod.example");
  EXPECT_TRUE(parseSpiffeId("spiffe://prod.example", &domain));  // the trust domain itself
  EXPECT_TRUE(parseSpiffeId("spiffe://a-b_c.9/X.y-Z_0", &domain));
  EXPECT_EQ(domain, "a-b_c.9");
}

TEST(SpiffeIdTest, MalformedIdsAreRefused) {
  for (const char* id : {
           "SPIFFE://prod.example/a",       // the scheme is lowercase
           "spiffe:/prod.example/a",        // not an authority
           "spiffe:///a",                   // no trust domain
           "spiffe://Prod.example/a",       // trust domains are lowercase
           "spiffe://prod.example:443/a",   // no port
           "spiffe://user@prod.example/a",  // no user info
           "spiffe://prod.example/",        // an empty segment (trailing slash)
           "spiffe://prod.example//a",      // an empty segment
           "spiffe://prod.example/a/./b",   // dot segments
           "spiffe://prod.example/a/../b",
           "spiffe://prod.example/a%2Fb",  // no percent-encoding
           "spiffe://prod.example/a?x=1",  // no query
           "spiffe://prod.example/a#f",    // no fragment
           "https://prod.example/a",
           "",
       }) {
    EXPECT_FALSE(parseSpiffeId(id, nullptr)) << id;
  }
  EXPECT_FALSE(parseSpiffeId("spiffe://d/" + std::string(kMaxSpiffeIdBytes, 'a'), nullptr));
}

}  // namespace
}  // namespace dpuguard::proxy::tls
