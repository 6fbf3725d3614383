// Tests of MethodGate: which methods pass (any token), what llhttp reads for them (the method
// when llhttp 8.1.0 knows it, the stand-in otherwise), the refusals, and that the method view
// is the caller's bytes however they were cut.
#include "parsers/http1/method_gate.h"

#include <gtest/gtest.h>

#include <string>

#include "parsers/http1/limits.h"

namespace dpuguard::http1 {
namespace {

struct Taken {
  bool resolved = false;
  ParseError error = ParseError::kNone;
  uint64_t error_offset = 0;
  std::string method;
  std::string for_llhttp;
  bool view_is_input = false;  // method() points at the input's bytes
};

// Feeds `line` (a request line prefix, up to and including the SP after the method) in pieces
// of `step` bytes from one buffer, as MessageParser does within a head.
Taken take(const std::string& line, size_t step) {
  MethodGate g;
  g.start(true);
  Taken t;
  for (size_t pos = 0; pos < line.size();) {
    const size_t n = std::min(step, line.size() - pos);
    const MethodGate::Step s = g.take(std::string_view(line).substr(pos, n), pos);
    if (s.error != ParseError::kNone) {
      t.error = s.error;
      t.error_offset = s.error_offset;
      return t;
    }
    if (s.resolved) {
      EXPECT_EQ(line[pos + s.length], ' ');
      t.resolved = true;
      t.method = std::string(g.method());
      t.for_llhttp = std::string(g.forLlhttp());
      t.view_is_input =
          g.method().data() >= line.data() && g.method().data() < line.data() + line.size();
      return t;
    }
    EXPECT_EQ(s.length, n);
    pos += n;
  }
  return t;
}

// The same outcome whole and in pieces of every size.
Taken takeAllWays(const std::string& line) {
  const Taken whole = take(line, line.size());
  for (size_t step = 1; step < line.size(); ++step) {
    const Taken t = take(line, step);
    EXPECT_EQ(t.resolved, whole.resolved) << line << " step " << step;
    EXPECT_EQ(t.error, whole.error) << line << " step " << step;
    EXPECT_EQ(t.error_offset, whole.error_offset) << line << " step " << step;
    EXPECT_EQ(t.method, whole.method) << line << " step " << step;
  }
  return whole;
}

TEST(MethodGateTest, MethodsLlhttpKnowsAreReadAsSent) {
  for (const char* m : {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND",
                        "M-SEARCH", "PURGE"}) {
    const Taken t = takeAllWays(std::string(m) + " ");
    EXPECT_TRUE(t.resolved) << m;
    EXPECT_EQ(t.method, m);
    EXPECT_EQ(t.for_llhttp, m);
    EXPECT_TRUE(t.view_is_input);
    EXPECT_TRUE(llhttpKnowsMethod(m));
  }
}

TEST(MethodGateTest, OtherTokensGetTheStandIn) {
  for (const char* m : {"QUERY", "FOO-BAR", "M_1", "DESCRIBE", "X", "!#$%&'*+-.^_`|~"}) {
    const Taken t = takeAllWays(std::string(m) + " ");
    EXPECT_TRUE(t.resolved) << m;
    EXPECT_EQ(t.method, m);
    EXPECT_EQ(t.for_llhttp, "PUT") << m;
    EXPECT_TRUE(t.view_is_input);
    EXPECT_FALSE(llhttpKnowsMethod(m)) << m;
  }
}

TEST(MethodGateTest, EmptyLinesBeforeTheMethodAreTaken) {
  const Taken t = takeAllWays("\r\n\r\nQUERY ");
  EXPECT_TRUE(t.resolved);
  EXPECT_EQ(t.method, "QUERY");
}

TEST(MethodGateTest, Refusals) {
  const Taken connect = takeAllWays("\r\nCONNECT ");
  EXPECT_EQ(connect.error, ParseError::kConnectRefused);
  EXPECT_EQ(connect.error_offset, 2u);  // the method's first byte
  EXPECT_EQ(takeAllWays("PRI ").error, ParseError::kUnsupportedVersion);
  const Taken bad = takeAllWays("GE@T ");
  EXPECT_EQ(bad.error, ParseError::kInvalidMethod);
  EXPECT_EQ(bad.error_offset, 2u);
  EXPECT_EQ(takeAllWays("G\xc3\xa9T ").error, ParseError::kInvalidMethod);
  EXPECT_EQ(takeAllWays("GET/ ").error, ParseError::kInvalidMethod);
  // Lower case: `delete` would slip past a policy naming DELETE into a server that upper-cases.
  for (const char* m : {"get ", "Get ", "delete ", "query ", "QUERy "}) {
    EXPECT_EQ(takeAllWays(m).error, ParseError::kInvalidMethod) << m;
  }
  EXPECT_TRUE(takeAllWays(std::string(kMaxMethodBytes, 'A') + " ").resolved);
  const Taken long_method = takeAllWays(std::string(kMaxMethodBytes + 1, 'A') + " ");
  EXPECT_EQ(long_method.error, ParseError::kMethodTooLong);
  EXPECT_EQ(long_method.error_offset, kMaxMethodBytes);
  // Refused at the byte that crosses the cap, with no SP in sight.
  EXPECT_EQ(take(std::string(1000, 'A'), 7).error, ParseError::kMethodTooLong);
}

TEST(MethodGateTest, APieceThatDoesNotContinueTheMethodIsRefused) {
  MethodGate g;
  g.start(true);
  const std::string a = "QUE";
  const std::string b = "RY / HTTP/1.1";
  ASSERT_FALSE(g.take(a, 0).resolved);
  const MethodGate::Step s = g.take(b, 3);  // another buffer: the method could not be one view
  EXPECT_EQ(s.error, ParseError::kDiscontiguousInput);
}

TEST(MethodGateTest, InactiveGateTakesNothing) {
  MethodGate g;
  g.start(false);
  EXPECT_FALSE(g.pending());
  const MethodGate::Step s = g.take("HTTP/1.1 200 OK\r\n", 0);
  EXPECT_TRUE(s.resolved);
  EXPECT_EQ(s.length, 0u);
}

}  // namespace
}  // namespace dpuguard::http1
