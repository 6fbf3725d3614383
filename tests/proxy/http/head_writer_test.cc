// Head rebuilding: what crosses a hop and what does not (RFC 9110 §7.6).
#include "proxy/http/head_writer.h"

#include <gtest/gtest.h>

#include "parsers/http1/message_parser.h"

namespace dpuguard::proxy {
namespace {

class Parsed {
 public:
  Parsed(http1::MessageParser::Kind kind, std::string text)
      : text_(std::move(text)), parser_(kind, http1::Limits{}) {
    http1::NullBodySink sink;
    EXPECT_EQ(parser_.feed(text_, sink).status, http1::ParseStatus::kHeadComplete);
  }
  const http1::MessageHead& head() const { return parser_.head(); }

 private:
  std::string text_;
  http1::MessageParser parser_;
};

TEST(HeadWriterTest, RequestDropsHopByHopAndAddsForwardingHeaders) {
  Parsed p(http1::MessageParser::Kind::kRequest,
           "POST /v1/x?y HTTP/1.1\r\nHost: api\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
           "Keep-Alive: 5\r\nTE: trailers\r\nUpgrade: websocket\r\nExpect: 100-continue\r\n"
           "Transfer-Encoding: chunked\r\nX-Forwarded-For: 10.0.0.1\r\nVia: 1.0 edge\r\nAccept: "
           "*/*\r\n\r\n");
  RequestForwarding f;
  f.target = p.head().target;
  f.host = "api";
  f.client_ip = "192.0.2.7";
  f.framing = BodyFraming::kChunked;
  std::string out;
  writeRequestHead(p.head(), f, out);
  EXPECT_EQ(out,
            "POST /v1/x?y HTTP/1.1\r\nHost: api\r\nAccept: */*\r\nVia: 1.0 edge, 1.1 dpuguard\r\n"
            "X-Forwarded-For: 10.0.0.1, 192.0.2.7\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST(HeadWriterTest, RequestWithContentLength) {
  Parsed p(http1::MessageParser::Kind::kRequest,
           "PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\n");
  RequestForwarding f{"/a", "h", "::1", BodyFraming::kContentLength, 7};
  std::string out;
  writeRequestHead(p.head(), f, out);
  EXPECT_EQ(out,
            "PUT /a HTTP/1.1\r\nHost: h\r\nVia: 1.1 dpuguard\r\nX-Forwarded-For: "
            "::1\r\nContent-Length: 7\r\n\r\n");
}

TEST(HeadWriterTest, AnAnswerGuardrailsReadIsAskedForUncompressed) {
  Parsed p(http1::MessageParser::Kind::kRequest,
           "GET /a HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, br\r\naccept-encoding: "
           "zstd\r\nAccept: */*\r\n\r\n");
  RequestForwarding f{"/a", "h", "::1", BodyFraming::kNone, 0, true};
  std::string out;
  writeRequestHead(p.head(), f, out);
  EXPECT_EQ(out,
            "GET /a HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nVia: 1.1 dpuguard\r\nX-Forwarded-For: "
            "::1\r\n\r\n");
  f.identity_encoding = false;
  out.clear();
  writeRequestHead(p.head(), f, out);
  EXPECT_NE(out.find("Accept-Encoding: gzip, br\r\n"), std::string::npos);
}

TEST(HeadWriterTest, AnApiKeyDpuguardCheckedStaysHereUnlessPassed) {
  Parsed p(http1::MessageParser::Kind::kRequest,
           "GET /a HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer dpg_k\r\nAccept: */*\r\n"
           "authorization: Bearer dpg_second\r\n\r\n");
  RequestForwarding f{"/a", "h", "::1", BodyFraming::kNone, 0, false};
  f.drop_authorization = true;
  std::string out;
  writeRequestHead(p.head(), f, out);
  EXPECT_EQ(out,
            "GET /a HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nVia: 1.1 dpuguard\r\nX-Forwarded-For: "
            "::1\r\n\r\n");
  f.drop_authorization = false;  // pass_api_key: true, or a route that reads no keys
  out.clear();
  writeRequestHead(p.head(), f, out);
  EXPECT_NE(out.find("\r\nAuthorization: Bearer dpg_k\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\nauthorization: Bearer dpg_second\r\n"), std::string::npos) << out;
}

TEST(HeadWriterTest, ResponseFramingAndClose) {
  Parsed p(http1::MessageParser::Kind::kResponse,
           "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
           "chunked\r\nConnection: keep-alive\r\n\r\n");
  ResponseForwarding f;
  f.framing = BodyFraming::kChunked;
  f.close = true;
  std::string out;
  writeResponseHead(p.head(), f, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nVia: 1.1 dpuguard\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
}

TEST(HeadWriterTest, HeadResponseKeepsItsLength) {
  Parsed p(http1::MessageParser::Kind::kResponse, "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n");
  ResponseForwarding f;
  f.keep_length_header = true;
  std::string out;
  writeResponseHead(p.head(), f, out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 42\r\nVia: 1.1 dpuguard\r\n\r\n");
}

TEST(HeadWriterTest, AKeptLengthIsWrittenAsANumber) {
  Parsed p(http1::MessageParser::Kind::kResponse,
           "HTTP/1.1 304 Not Modified\r\nContent-Length:\t0042 \r\n\r\n");
  ResponseForwarding f;
  f.keep_length_header = true;
  std::string out;
  writeResponseHead(p.head(), f, out);
  EXPECT_EQ(out, "HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\nVia: 1.1 dpuguard\r\n\r\n");
}

TEST(HeadWriterTest, HopByHopList) {
  for (const char* h :
       {"Connection", "keep-alive", "TE", "Transfer-Encoding", "Upgrade", "Proxy-Connection"}) {
    EXPECT_TRUE(isHopByHop(h)) << h;
  }
  EXPECT_FALSE(isHopByHop("Authorization"));
  EXPECT_FALSE(isHopByHop("Content-Type"));
}

}  // namespace
}  // namespace dpuguard::proxy
