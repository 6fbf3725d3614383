// Tests of ChunkLineScanner: the chunk-size line grammar of RFC 9112 §7.1.1, the canonical
// line handed to llhttp, the extension budget, and that neither the verdict nor the error
// position depends on how the line is cut or on where its pieces lie in memory.
#include "parsers/http1/chunk_line_scanner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dpuguard::http1 {
namespace {

using namespace std::string_view_literals;

struct Outcome {
  ParseError error = ParseError::kNone;
  size_t at = 0;  // offset in the line of the end (complete) or of the error
  bool complete = false;
  std::string canonical;
  uint64_t size = 0;

  bool operator==(const Outcome&) const = default;
};

// Scans `line` fed in the pieces given by `cuts`, each copied into the same scratch buffer
// (overwritten in between), so a scanner that kept a pointer would read the wrong bytes.
Outcome scanCut(std::string_view line, const std::vector<size_t>& cuts, uint32_t max_ext = 256) {
  ChunkLineScanner s;
  s.start();
  std::vector<size_t> bounds = cuts;
  bounds.push_back(line.size());
  std::string scratch(line.size() + 1, ';');
  size_t pos = 0;
  for (size_t end : bounds) {
    std::fill(scratch.begin(), scratch.end(), ';');
    std::copy(line.begin() + pos, line.begin() + end, scratch.begin());
    const ChunkLineScanner::Scan r = s.scan(std::string_view(scratch.data(), end - pos), max_ext);
    if (r.error != ParseError::kNone) return Outcome{r.error, pos + r.length, false, "", 0};
    if (r.complete)
      return Outcome{ParseError::kNone, pos + r.length, true, std::string(s.canonicalLine()),
                     s.size()};
    EXPECT_EQ(r.length, end - pos) << "an incomplete scan uses every byte";
    pos = end;
  }
  return Outcome{ParseError::kNone, pos, false, "", 0};
}

// Whole, byte by byte and at every split: the same outcome.
Outcome scanAllSplits(std::string_view line, uint32_t max_ext = 256) {
  const Outcome whole = scanCut(line, {}, max_ext);
  std::vector<size_t> bytes;
  for (size_t i = 1; i < line.size(); ++i) bytes.push_back(i);
  EXPECT_EQ(scanCut(line, bytes, max_ext), whole) << "byte by byte";
  for (size_t i = 1; i < line.size(); ++i)
    EXPECT_EQ(scanCut(line, {i}, max_ext), whole) << "split at " << i;
  return whole;
}

void expectLine(std::string_view line, uint64_t size, std::string_view canonical) {
  const Outcome o = scanAllSplits(line);
  EXPECT_TRUE(o.complete) << line;
  EXPECT_EQ(o.error, ParseError::kNone) << line << " at " << o.at;
  EXPECT_EQ(o.size, size) << line;
  EXPECT_EQ(o.canonical, canonical) << line;
  EXPECT_EQ(o.at, line.size()) << line;
}

void expectError(std::string_view line, ParseError e, size_t at) {
  const Outcome o = scanAllSplits(line);
  EXPECT_FALSE(o.complete) << line;
  EXPECT_EQ(o.error, e) << line << ": " << parseErrorName(o.error);
  EXPECT_EQ(o.at, at) << line;
}

TEST(ChunkLineScannerTest, SizesBecomeCanonicalHex) {
  expectLine("5\r\n", 5, "5\r\n");
  expectLine("0\r\n", 0, "0\r\n");
  expectLine("000\r\n", 0, "0\r\n");
  expectLine("0005\r\n", 5, "5\r\n");
  expectLine("AbC\r\n", 0xabc, "abc\r\n");
  expectLine("ffffffffffffffff\r\n", UINT64_MAX, "ffffffffffffffff\r\n");
  expectLine(std::string(100, '0') + "1\r\n", 1, "1\r\n");
}

TEST(ChunkLineScannerTest, ExtensionsAreDroppedFromTheCanonicalLine) {
  for (std::string_view ext :
       {";a"sv, ";a=1"sv, ";a=1;b"sv, ";a=1;b=2"sv, ";a;b;c=d"sv, ";a=\"x y\";b"sv,
        ";a=\"x\";b=\"y\""sv, ";a=\"\""sv, ";n=\"a\\\"b\""sv, ";a=\"caf\xc3\xa9\""sv, " ;a"sv,
        "\t;a"sv, "; a"sv, ";a =1"sv, ";a= 1"sv, ";a = 1 ; b"sv, ";a=1 ;b"sv,
        ";!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~"sv}) {
    expectLine("1a" + std::string(ext) + "\r\n", 0x1a, "1a\r\n");
  }
}

TEST(ChunkLineScannerTest, SizeErrors) {
  expectError("\r\n", ParseError::kInvalidChunkSize, 0);
  expectError(";a\r\n", ParseError::kInvalidChunkSize, 0);
  expectError("x\r\n", ParseError::kInvalidChunkSize, 0);
  expectError("0x5\r\n", ParseError::kInvalidChunkSize, 1);
  expectError("1_0\r\n", ParseError::kInvalidChunkSize, 1);
  expectError("-5\r\n", ParseError::kInvalidChunkSize, 0);
  expectError(" 5\r\n", ParseError::kInvalidChunkSize, 0);
  expectError("5\n", ParseError::kInvalidChunkSize, 1);      // Go CVE-2025-22871
  expectError("5 \r\n", ParseError::kInvalidChunkSize, 2);   // BWS with no ";" after it
  expectError("5 x\r\n", ParseError::kInvalidChunkSize, 2);  // ATS CVE-2021-37149
  expectError("10000000000000000\r\n", ParseError::kInvalidChunkSize, 16);  // 2^64
}

TEST(ChunkLineScannerTest, ExtensionErrors) {
  expectError("5;\r\n", ParseError::kInvalidChunk, 2);  // empty name
  expectError("5;;a\r\n", ParseError::kInvalidChunk, 2);
  expectError("5;a=1;\r\n", ParseError::kInvalidChunk, 6);
  expectError("5;e=x;;f\r\n", ParseError::kInvalidChunk, 6);
  expectError("5;=1\r\n", ParseError::kInvalidChunk, 2);
  expectError("5;a=\r\n", ParseError::kInvalidChunk, 4);  // empty value
  expectError("5;a \r\n", ParseError::kInvalidChunk, 4);  // BWS before CRLF
  expectError("5;a b\r\n", ParseError::kInvalidChunk, 4);
  expectError("5;a(b\r\n", ParseError::kInvalidChunk, 3);  // not a token
  expectError("5;a=(\r\n", ParseError::kInvalidChunk, 4);
  expectError("5;n=q\"x y\"\r\n", ParseError::kInvalidChunk, 5);  // quote after a token
  expectError("5;n=\"x\"y\r\n", ParseError::kInvalidChunk, 7);    // text after a quoted-string
  expectError("5;a=\"x\r\n", ParseError::kInvalidChunk, 6);       // CR inside quotes
  expectError("5;a=\"\x01\"\r\n", ParseError::kInvalidChunk, 5);
  expectError("5;a\rb\r\n", ParseError::kInvalidChunk, 4);    // CVE-2021-22960
  expectError("5;a=b\nc\r\n", ParseError::kInvalidChunk, 5);  // ATS CVE-2024-53868
  expectError("5\rx", ParseError::kInvalidChunk, 2);
  expectError("5;a\0b\r\n"sv, ParseError::kInvalidChunk, 3);
}

TEST(ChunkLineScannerTest, EveryByteAfterTheSizeCountsAgainstTheBudget) {
  // ";a=1;b=2" is 8 bytes: at a budget of 8 it fits, one more byte does not.
  EXPECT_TRUE(scanAllSplits("5;a=1;b=2\r\n", 8).complete);
  const Outcome over = scanAllSplits("5;a=1;b=22\r\n", 8);
  EXPECT_EQ(over.error, ParseError::kChunkExtensionTooLong);
  EXPECT_EQ(over.at, 9u);
  // BWS counts too, and the CR does not.
  EXPECT_EQ(scanAllSplits("5       ;a\r\n", 8).error, ParseError::kChunkExtensionTooLong);
  EXPECT_TRUE(scanAllSplits("5;a\r\n", 2).complete);
  EXPECT_EQ(scanAllSplits("5;a\r\n", 0).error, ParseError::kChunkExtensionTooLong);
  // A line that never ends is bounded by the budget, not by the input.
  EXPECT_EQ(scanCut("5;" + std::string(10000, 'a'), {}, 256).at, 257u);
}

TEST(ChunkLineScannerTest, StartReadsANewLine) {
  ChunkLineScanner s;
  s.start();
  ASSERT_TRUE(s.scan("a;x=y\r\n", 256).complete);
  EXPECT_EQ(s.canonicalLine(), "a\r\n");
  s.start();
  const ChunkLineScanner::Scan r = s.scan("0\r\nX-T: 1\r\n", 256);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.length, 3u);  // stops right after the line's LF
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.canonicalLine(), "0\r\n");
}

}  // namespace
}  // namespace dpuguard::http1
