// parseRequestTarget: the four forms of RFC 9112 §3.2, and what is refused.
#include "parsers/uri/request_target.h"

#include <gtest/gtest.h>

namespace dpuguard::uri {
namespace {

using Form = RequestTarget::Form;

TEST(RequestTargetTest, OriginForm) {
  RequestTarget t = parseRequestTarget("/v1/chat/completions?x=1&y");
  EXPECT_EQ(t.form, Form::kOrigin);
  EXPECT_EQ(t.path, "/v1/chat/completions");
  EXPECT_EQ(t.query, "x=1&y");
  EXPECT_EQ(parseRequestTarget("/").path, "/");
}

TEST(RequestTargetTest, AbsoluteForm) {
  RequestTarget t = parseRequestTarget("http://api.example:8080/v1/models?a");
  EXPECT_EQ(t.form, Form::kAbsolute);
  EXPECT_EQ(t.authority, "api.example:8080");
  EXPECT_EQ(t.path, "/v1/models");
  EXPECT_EQ(t.query, "a");
  RequestTarget bare = parseRequestTarget("HTTPS://h");
  EXPECT_EQ(bare.form, Form::kAbsolute);
  EXPECT_EQ(bare.path, "/");
  EXPECT_EQ(parseRequestTarget("http://h?q").query, "q");
}

TEST(RequestTargetTest, RefusedTargets) {
  EXPECT_EQ(parseRequestTarget("").form, Form::kInvalid);
  EXPECT_EQ(parseRequestTarget("/a#frag").form, Form::kInvalid);  // fragments are never sent
  EXPECT_EQ(parseRequestTarget("http://user@h/").form, Form::kInvalid);  // userinfo
  EXPECT_EQ(parseRequestTarget("http:///x").form, Form::kInvalid);  // empty authority
  EXPECT_EQ(parseRequestTarget("ftp://h/x").form, Form::kInvalid);
  EXPECT_EQ(parseRequestTarget("relative/path").form, Form::kInvalid);
}

TEST(RequestTargetTest, AsteriskAndAuthority) {
  EXPECT_EQ(parseRequestTarget("*").form, Form::kAsterisk);
  RequestTarget t = parseRequestTarget("example.com:443");
  EXPECT_EQ(t.form, Form::kAuthority);
  EXPECT_EQ(t.authority, "example.com:443");
}

TEST(RequestTargetTest, HostWithoutPort) {
  EXPECT_EQ(hostWithoutPort("example.com:8080"), "example.com");
  EXPECT_EQ(hostWithoutPort("example.com"), "example.com");
  EXPECT_EQ(hostWithoutPort("[::1]:80"), "[::1]");
  EXPECT_EQ(hostWithoutPort("[::1]"), "[::1]");
}

}  // namespace
}  // namespace dpuguard::uri
