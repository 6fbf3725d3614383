// Endpoint::parse: the loader resolves each endpoint once into its kind; bad text says why.
#include "proxy/config/endpoint.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

namespace dpuguard::proxy {
namespace {

TEST(EndpointTest, TcpAddresses) {
  const auto v4 = Endpoint::parse("127.0.0.1:8000");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->kind, Endpoint::Kind::kTcp);
  EXPECT_FALSE(v4->isHost());
  EXPECT_EQ(v4->address.family(), AF_INET);
  EXPECT_EQ(v4->address.port(), 8000);
  EXPECT_EQ(v4->text, "127.0.0.1:8000");
  EXPECT_EQ(v4->authority(), "127.0.0.1:8000");
  EXPECT_TRUE(v4->backend.empty());
  const auto v6 = Endpoint::parse("[::1]:9000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->address.family(), AF_INET6);
  EXPECT_EQ(v6->text, "[::1]:9000");
}

TEST(EndpointTest, HostBackends) {
  const auto h = Endpoint::parse("host://inference-2_a");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->kind, Endpoint::Kind::kHost);
  EXPECT_TRUE(h->isHost());
  EXPECT_EQ(h->backend, "inference-2_a");
  EXPECT_EQ(h->text, "host://inference-2_a");
  EXPECT_EQ(h->authority(), "inference-2_a");  // the Host header a request without one gets
  EXPECT_EQ(h->address.length, 0u);            // no sockaddr: never connect(2)ed
}

TEST(EndpointTest, BadTextSaysWhy) {
  const struct {
    const char* text;
    const char* why;
  } cases[] = {
      {"host://", "a host backend name is 1-64 of a-z, 0-9, '-' and '_'"},
      {"host://Inference", "a host backend name is 1-64 of a-z, 0-9, '-' and '_'"},
      {"host://a/b", "a host backend name is 1-64 of a-z, 0-9, '-' and '_'"},
      {"host://../x", "a host backend name is 1-64 of a-z, 0-9, '-' and '_'"},
      {"localhost:8000",
       "not a numeric IPv4 address (names are not resolved; write e.g. 127.0.0.1:8000)"},
      {"127.0.0.1", "expected HOST:PORT"},
      {"", "expected HOST:PORT"},
      {"http://127.0.0.1:80", "host:// is the only scheme; a TCP endpoint is written HOST:PORT"},
      {"HOST://llm", "host:// is the only scheme; a TCP endpoint is written HOST:PORT"},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_FALSE(Endpoint::parse(c.text, &why)) << c.text;
    EXPECT_EQ(why, c.why) << c.text;
  }
  EXPECT_FALSE(Endpoint::parse("host://" + std::string(65, 'a')));
  EXPECT_TRUE(Endpoint::parse("host://" + std::string(64, 'a')));
}

TEST(EndpointTest, HostBackendNames) {
  EXPECT_TRUE(isHostBackendName("audit"));
  EXPECT_FALSE(isHostBackendName(""));
  EXPECT_FALSE(isHostBackendName("Audit"));
  EXPECT_FALSE(isHostBackendName("a.b"));
}

}  // namespace
}  // namespace dpuguard::proxy
