// Tests of MessageParser: framing, limits, pauses, and that every way of splitting the input
// gives the same verdict (the parser is incremental; bugs live at boundaries).
#include "parsers/http1/message_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <string>

#include "tests/parsers/http1/parse_transcript.h"

namespace dpuguard::http1 {
namespace {

using Kind = MessageParser::Kind;

TEST(MessageParserTest, SimpleGet) {
  EXPECT_EQ(runAllSplits("GET /v1/models HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n"),
            "head{GET /v1/models 1.1|Host=a|Accept=*/* ka}<end>");
}

TEST(MessageParserTest, ReleaseStorageBetweenMessagesOnly) {
  const std::string one = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nhi";
  MessageParser p(Kind::kRequest, Limits{});
  NullBodySink sink;
  ParseResult r = p.feed(one, sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  p.releaseStorage();  // inside a message: a no-op, the head's fields stay readable
  ASSERT_EQ(p.head().headers.size(), 3u);
  EXPECT_EQ(p.head().find("x-a"), "1");
  r = p.feed(std::string_view(one).substr(r.consumed), sink);
  ASSERT_EQ(r.status, ParseStatus::kMessageComplete);
  p.releaseStorage();  // idle: the fields are given back and the head forgets them
  EXPECT_TRUE(p.head().headers.empty());
  // The next message takes storage again and parses as usual.
  const std::string two = "GET /b HTTP/1.1\r\nHost: b\r\nX-B: 2\r\n\r\n";
  r = p.feed(two, sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.head().target, "/b");
  EXPECT_EQ(p.head().find("x-b"), "2");
  EXPECT_EQ(p.head().find("x-a"), "");
}

TEST(MessageParserTest, ContentLengthBody) {
  EXPECT_EQ(runAllSplits("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"),
            "head{POST /x 1.1|Host=a|Content-Length=5 cl=5 ka}body[hello]<end>");
}

TEST(MessageParserTest, ChunkedBodyKeepsChunkBoundaries) {
  EXPECT_EQ(runAllSplits("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
            "head{POST /x 1.1|Host=a|Transfer-Encoding=chunked chunked ka}"
            "chunk(3)body[abc]/chunkchunk(2)body[de]/chunkchunk(0)/chunk<end>");
}

TEST(MessageParserTest, PipelinedRequestsPauseAfterEachMessage) {
  const std::string two = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(runAllSplits(two), "head{GET /a 1.1|Host=a ka}<end>head{GET /b 1.1|Host=a ka}<end>");
  // The first call stops right after the first message.
  MessageParser p(Kind::kRequest, Limits{});
  NullBodySink sink;
  ParseResult r = p.feed(two, sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  r = p.feed(std::string_view(two).substr(r.consumed), sink);
  EXPECT_EQ(r.status, ParseStatus::kMessageComplete);
  EXPECT_EQ(r.consumed, 0u);  // bodiless: the message ends where the head ends
}

TEST(MessageParserTest, EmptyViewAfterHeadEndsABodilessMessage) {
  // A default string_view has a null data(): the parser must not pass it to llhttp
  // (UBSan: "applying zero offset to null pointer" inside llhttp_execute).
  MessageParser p(Kind::kRequest, Limits{});
  NullBodySink sink;
  ASSERT_EQ(p.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n", sink).status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.feed({}, sink).status, ParseStatus::kMessageComplete);
  EXPECT_EQ(p.feed(std::string_view(), sink).status, ParseStatus::kNeedMore);
}

TEST(MessageParserTest, ConnectionCloseAndHttp10) {
  EXPECT_EQ(run("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", {}),
            "head{GET / 1.1|Host=a|Connection=close close}<end>");
  EXPECT_EQ(run("GET / HTTP/1.0\r\n\r\n", {}), "head{GET / 1.0 close}<end>");
}

TEST(MessageParserTest, HeadTooLargeIsRejectedWhateverTheSplit) {
  Options o;
  o.limits.max_header_bytes = 64;
  const std::string big = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + std::string(60, 'x') + "\r\n\r\n";
  EXPECT_EQ(runAllSplits(big, o), "error:head_too_large");
  // Exactly at the limit is fine.
  const std::string fits = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(32, 'y') + "\r\n\r\n";
  ASSERT_EQ(fits.size(), 64u);
  EXPECT_NE(runAllSplits(fits, o).find("<end>"), std::string::npos);
  EXPECT_EQ(statusFor(ParseError::kHeadTooLarge), 431);
}

TEST(MessageParserTest, TooManyHeaders) {
  Options o;
  o.limits.max_headers = 3;
  EXPECT_EQ(runAllSplits("GET / HTTP/1.1\r\nHost: h\r\nB: 2\r\nC: 3\r\n\r\n", o), "head{GET / 1.1|Host=h|B=2|C=3 ka}<end>");
  EXPECT_EQ(runAllSplits("GET / HTTP/1.1\r\nHost: h\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", o), "error:too_many_headers");
}

TEST(MessageParserTest, UriTooLong) {
  Options o;
  o.limits.max_uri_bytes = 10;
  EXPECT_EQ(runAllSplits("GET /0123456789abc HTTP/1.1\r\nHost: a\r\n\r\n", o), "error:uri_too_long");
  EXPECT_EQ(statusFor(ParseError::kUriTooLong), 414);
}

TEST(MessageParserTest, RejectsObsFold) {
  EXPECT_EQ(runAllSplits("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n"), "error:obs_fold");
}

TEST(MessageParserTest, StrictModeRejections) {
  // What llhttp in strict mode already refuses; the full hardening matrix is its own suite.
  EXPECT_EQ(runAllSplits("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "error:content_length_with_transfer_encoding");
  EXPECT_EQ(runAllSplits("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n"), "error:invalid_content_length");
  EXPECT_EQ(runAllSplits("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), "error:invalid_header_token");
  EXPECT_EQ(runAllSplits("G@T / HTTP/1.1\r\n\r\n"), "error:invalid_method");
  EXPECT_EQ(runAllSplits("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), "error:invalid_header_token");
  EXPECT_EQ(runAllSplits("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            "head{POST / 1.1|Host=a|Transfer-Encoding=chunked chunked ka}error:invalid_chunk_size");
}

TEST(MessageParserTest, UnregisteredMethodIsTheCallersBytes) {
  // llhttp 8.1.0 reads a stand-in for QUERY; the head's method is the bytes that were sent.
  const std::string in = "QUERY /q HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nq=";
  EXPECT_EQ(runAllSplits(in), "head{QUERY /q 1.1|Host=a|Content-Length=2 cl=2 ka}body[q=]<end>");
  MessageParser p(Kind::kRequest, Limits{});
  NullBodySink sink;
  ASSERT_EQ(p.feed(in, sink).status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.head().method, "QUERY");
  EXPECT_EQ(p.head().method.data(), in.data());
  EXPECT_EQ(p.head().target, "/q");
}

TEST(MessageParserTest, MethodHeldBackAcrossFeedsStaysOneView) {
  const std::string in = "\r\nFOO-BAR / HTTP/1.1\r\nHost: a\r\n\r\n";
  MessageParser p(Kind::kRequest, Limits{});
  NullBodySink sink;
  ParseResult r = p.feed(std::string_view(in).substr(0, 5), sink);  // "\r\nFOO": no SP yet
  ASSERT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(r.consumed, 5u);
  EXPECT_TRUE(p.inHead());
  r = p.feed(std::string_view(in).substr(5), sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.head().method, "FOO-BAR");
  EXPECT_EQ(p.head().method.data(), in.data() + 2);
  EXPECT_EQ(p.head().head_bytes, in.size());
}

TEST(MessageParserTest, MethodErrorsPointAtTheirByte) {
  struct Want {
    std::string in;
    ParseError error;
    uint64_t offset;
  };
  const Want wants[] = {
      {"\r\nCONNECT a:443 HTTP/1.1\r\n", ParseError::kConnectRefused, 2},
      {"GE@T / HTTP/1.1\r\n", ParseError::kInvalidMethod, 2},
      {std::string(kMaxMethodBytes + 8, 'X') + " / HTTP/1.1\r\n", ParseError::kMethodTooLong,
       kMaxMethodBytes},
      {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ParseError::kUnsupportedVersion, 0},
  };
  for (const Want& w : wants) {
    for (size_t cut = 1; cut < w.in.size(); ++cut) {
      MessageParser p(Kind::kRequest, Limits{});
      NullBodySink sink;
      ParseResult r = p.feed(std::string_view(w.in).substr(0, cut), sink);
      if (r.status != ParseStatus::kError)
        r = p.feed(std::string_view(w.in).substr(r.consumed), sink);
      ASSERT_EQ(r.status, ParseStatus::kError) << w.in;
      EXPECT_EQ(r.error, w.error) << w.in << " cut " << cut;
      EXPECT_EQ(r.error_offset, w.offset) << w.in << " cut " << cut;
    }
  }
}

TEST(MessageParserTest, ContentLengthIsOursAndLlhttpFramesWithIt) {
  // llhttp 8.1.0 refuses HTAB after the digits and would read the value itself.
  EXPECT_EQ(runAllSplits("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\t0005\t\r\n\r\nhelloGET / "
                         "HTTP/1.1\r\nHost: a\r\n\r\n"),
            "head{POST / 1.1|Host=a|Content-Length=0005 cl=5 ka}body[hello]<end>head{GET / "
            "1.1|Host=a ka}<end>");
  Options o;
  o.kind = Kind::kResponse;
  o.finish = true;
  EXPECT_EQ(runAllSplits("HTTP/1.1 200 OK\r\nContent-Length: 03\r\n\r\nabcdef", o),
            "head{200 1.1|Content-Length=03 cl=3 ka}body[abc]<end>error:invalid_constant");
  EXPECT_EQ(runAllSplits("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 000\r\n\r\n"),
            "error:invalid_content_length");
}

TEST(MessageParserTest, ChunkLineVerdictDoesNotDependOnBufferReuse) {
  // The body phase fed from one buffer that is overwritten before every feed, as the proxy's
  // compacted buffers are: no pointer into an earlier feed may survive (the old parser kept
  // one and read an unrelated byte where it expected a ';').
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const std::string& body : {std::string("5;a=x;b\r\nab;;e\r\n0\r\n\r\n"),
                                  std::string("5;a=x;\r\nab;;e\r\n0\r\n\r\n")}) {
    const bool valid = body.find("x;b") != std::string::npos;
    for (size_t cut = 1; cut < body.size(); ++cut) {
      MessageParser p(Kind::kRequest, Limits{});
      Recorder rec;
      ASSERT_EQ(p.feed(head, rec).status, ParseStatus::kHeadComplete);
      char buffer[64];
      ParseResult r;
      size_t pos = 0;
      for (size_t end : {cut, body.size()}) {
        while (pos < end) {
          std::fill(std::begin(buffer), std::end(buffer), ';');
          std::copy(body.begin() + pos, body.begin() + end, buffer);
          r = p.feed(std::string_view(buffer, end - pos), rec);
          pos += r.consumed;
          if (r.status != ParseStatus::kNeedMore || r.consumed == 0) break;
        }
        if (r.status == ParseStatus::kError || r.status == ParseStatus::kMessageComplete) break;
      }
      rec.flush();
      if (valid) {
        EXPECT_EQ(r.status, ParseStatus::kMessageComplete) << "cut " << cut;
        EXPECT_EQ(rec.log(), "chunk(5)body[ab;;e]/chunkchunk(0)/chunk") << "cut " << cut;
      } else {
        EXPECT_EQ(r.status, ParseStatus::kError) << "cut " << cut;
        EXPECT_EQ(r.error, ParseError::kInvalidChunk) << "cut " << cut;
        EXPECT_EQ(r.error_offset, head.size() + 6) << "cut " << cut;  // the CR after the empty name
      }
    }
  }
}

TEST(MessageParserTest, ConnectIsRefused) {
  EXPECT_EQ(run("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", {}), "error:connect_refused");
}

TEST(MessageParserTest, ErrorOffsetPointsAtTheOffendingByte) {
  MessageParser p(Kind::kRequest, Limits{});
  NullBodySink sink;
  const std::string in = "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n";
  ParseResult r = p.feed(in, sink);
  ASSERT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error_offset, in.find("Bad Name") + 3);
  // The parser stays dead until reset.
  EXPECT_EQ(p.feed("GET / HTTP/1.1\r\n\r\n", sink).status, ParseStatus::kError);
  p.reset();
  EXPECT_EQ(p.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n", sink).status, ParseStatus::kHeadComplete);
}

TEST(MessageParserTest, DiscontiguousInputIsDetected) {
  MessageParser p(Kind::kRequest, Limits{});
  NullBodySink sink;
  std::string a = "GET /abc";
  std::string b = "def HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(p.feed(a, sink).status, ParseStatus::kNeedMore);
  ParseResult r = p.feed(b, sink);  // a different buffer: the target cannot be one view
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error, ParseError::kDiscontiguousInput);
}

TEST(MessageParserTest, ResponseWithContentLength) {
  Options o;
  o.kind = Kind::kResponse;
  EXPECT_EQ(runAllSplits("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", o),
            "head{200 1.1|Content-Length=2 cl=2 ka}body[hi]<end>");
}

TEST(MessageParserTest, ResponseToHeadHasNoBody) {
  Options o;
  o.kind = Kind::kResponse;
  o.head_request = true;
  EXPECT_EQ(runAllSplits("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", o), "head{200 1.1|Content-Length=5 ka}<end>");
}

TEST(MessageParserTest, NoBodyAfter204Or304EvenWithContentLength) {
  Options o;
  o.kind = Kind::kResponse;
  // The bytes after the head start the next response; they are not a body.
  EXPECT_EQ(run("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", {}, o),
            "head{204 1.1|Content-Length=5 ka}<end>head{200 1.1|Content-Length=0 cl=0 ka}<end>");
  EXPECT_EQ(run("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", {}, o),
            "head{304 1.1|Content-Length=5 ka}<end>");
}

TEST(MessageParserTest, InterimResponseThenFinal) {
  Options o;
  o.kind = Kind::kResponse;
  EXPECT_EQ(runAllSplits("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", o),
            "head{100 1.1 ka}<end>head{200 1.1|Content-Length=1 cl=1 ka}body[x]<end>");
}

TEST(MessageParserTest, CloseDelimitedResponseEndsAtEof) {
  Options o;
  o.kind = Kind::kResponse;
  o.finish = true;
  EXPECT_EQ(runAllSplits("HTTP/1.1 200 OK\r\n\r\nstream until close", o),
            "head{200 1.1 close}body[stream until close]<end-eof>");
}

TEST(MessageParserTest, TruncatedBodyAtEofIsAnError) {
  Options o;
  o.kind = Kind::kResponse;
  o.finish = true;
  EXPECT_EQ(run("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", {}, o),
            "head{200 1.1|Content-Length=10 cl=10 ka}body[abc]error:truncated");
}

TEST(MessageParserTest, UpgradeResponseIsRefused) {
  Options o;
  o.kind = Kind::kResponse;
  EXPECT_EQ(run("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", {}, o),
            "error:unsolicited_upgrade");
}

TEST(MessageParserTest, UpgradeRequestContinuesAsPlainHttp) {
  EXPECT_EQ(run("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n", {}),
            "head{GET / 1.1|Host=a|Upgrade=websocket|Connection=Upgrade ka}<end>head{GET /2 1.1|Host=a ka}<end>");
}

TEST(MessageParserTest, FindIsCaseInsensitive) {
  MessageParser p(Kind::kRequest, Limits{});
  NullBodySink sink;
  std::string in = "GET / HTTP/1.1\r\nHOST: example\r\nx-y: z\r\n\r\n";
  ASSERT_EQ(p.feed(in, sink).status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.head().find("host"), "example");
  EXPECT_EQ(p.head().find("X-Y"), "z");
  EXPECT_TRUE(p.head().find("absent").empty());
  EXPECT_EQ(p.head().head_bytes, in.size());
}

}  // namespace
}  // namespace dpuguard::http1
