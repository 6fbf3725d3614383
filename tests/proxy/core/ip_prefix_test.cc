// IpPrefix: CIDR parsing (host bits must be zero) and containment, IPv4 and IPv6.
#include "proxy/core/ip_prefix.h"

#include <gtest/gtest.h>

namespace dpuguard::proxy {
namespace {

IpAddress addr(const char* text) { return IpAddress::of(*SocketAddress::parse(text)); }

TEST(IpPrefixTest, ContainsV4) {
  std::string why;
  const IpPrefix p = *IpPrefix::parse("10.1.0.0/16", &why);
  EXPECT_TRUE(p.contains(addr("10.1.200.3:1")));
  EXPECT_FALSE(p.contains(addr("10.2.0.1:1")));
  EXPECT_FALSE(p.contains(addr("[::ffff:10.1.0.1]:1")));  // other family
  const IpPrefix host = *IpPrefix::parse("127.0.0.2", &why);
  EXPECT_EQ(host.bits, 32);
  EXPECT_TRUE(host.contains(addr("127.0.0.2:9")));
  EXPECT_FALSE(host.contains(addr("127.0.0.3:9")));
  EXPECT_TRUE(IpPrefix::parse("0.0.0.0/0", &why)->contains(addr("8.8.8.8:53")));
  EXPECT_TRUE(IpPrefix::parse("127.0.0.0/29", &why)->contains(addr("127.0.0.7:1")));
  EXPECT_FALSE(IpPrefix::parse("127.0.0.0/29", &why)->contains(addr("127.0.0.8:1")));
}

TEST(IpPrefixTest, ContainsV6) {
  std::string why;
  const IpPrefix p = *IpPrefix::parse("fd00:ab::/33", &why);
  EXPECT_TRUE(p.contains(addr("[fd00:ab:7fff::1]:1")));
  EXPECT_FALSE(p.contains(addr("[fd00:ab:8000::1]:1")));
}

TEST(IpPrefixTest, RefusesMalformed) {
  std::string why;
  EXPECT_FALSE(IpPrefix::parse("10.0.0.1/8", &why));
  EXPECT_EQ(why, "'10.0.0.1/8' has host bits set after /8");
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/33", &why));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/", &why));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.0/8x", &why));
  EXPECT_FALSE(IpPrefix::parse("notanaddress/8", &why));
  EXPECT_FALSE(IpPrefix::parse("::/129", &why));
}

}  // namespace
}  // namespace dpuguard::proxy
