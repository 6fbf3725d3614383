// InspectingBodySink: a body rule matches however the body is cut (Vectorscan 5.4.9's stream
// scan lost matches fed in 1-2 byte writes), the bytes that complete a match are never
// forwarded, and what is forwarded is the body, in order.
#include "proxy/inspect/inspecting_body_sink.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace dpuguard::proxy {
namespace {

using inspect::BodyScan;
using inspect::InspectingBodySink;
using inspect::Matches;
using inspect::Signature;
using inspect::SignatureScratch;
using inspect::SignatureSet;
using inspect::Where;

class Collect final : public http1::BodySink {
 public:
  void onBodyData(std::string_view d) override {
    body.append(d);
    ++pieces;
  }
  std::string body;
  size_t pieces = 0;
};

std::shared_ptr<const SignatureSet> dropTable() {
  Signature s;
  s.id = "t-drop";
  s.pattern = ";\\s*drop\\s+table\\b";
  s.where = 1 << static_cast<int>(Where::kBody);
  s.action = inspect::SignatureAction::kBlock;
  ConfigError error;
  std::vector<Signature> sigs;
  sigs.push_back(s);
  return SignatureSet::compile(std::move(sigs), &error);
}

struct Outcome {
  bool blocked = false;
  std::string forwarded;
};

Outcome feed(const SignatureSet& set, std::string_view body, const std::vector<size_t>& pieces) {
  SignatureScratch scratch;
  BodyScan scan;
  Matches m;
  Collect next;
  InspectingBodySink sink(scan, m);
  sink.start(&next);
  scan.start(&set, scratch.forSet(set));
  size_t at = 0;
  for (size_t n : pieces) {
    sink.onBodyData(body.substr(at, n));
    at += n;
  }
  sink.onBodyData(body.substr(at));
  sink.finish();
  return Outcome{sink.blocked(), next.body};
}

TEST(InspectingBodySinkTest, TheCutThatVectorscanMissedIsBlocked) {
  const auto set = dropTable();
  ASSERT_NE(set, nullptr);
  const std::string body = "enant: {\"m.internal\r\nContent-Type@; drop table";
  const Outcome r = feed(*set, body, {25, 5, 5, 3, 1});
  EXPECT_TRUE(r.blocked);
  EXPECT_EQ(body.rfind(r.forwarded, 0), 0u);
  EXPECT_LT(r.forwarded.size(), body.size());  // "table" never went on whole
}

TEST(InspectingBodySinkTest, RandomTinyPiecesNeverMissAndForwardTheBodyInOrder) {
  const auto set = dropTable();
  ASSERT_NE(set, nullptr);
  std::mt19937 rng(7);
  for (int t = 0; t < 3000; ++t) {
    std::string body(50 + rng() % 300, 'x');
    for (char& c : body) c = "xa ;{\"\r\n"[rng() % 8];
    const bool attack = t % 2 == 0;
    if (attack) body.replace(rng() % (body.size() - 20), 18, "; drop table users");
    std::vector<size_t> pieces;
    for (size_t left = body.size(); left > 0;) {
      const size_t n = std::min<size_t>(left, t % 3 == 0 ? 1 + rng() % 2 : 1 + rng() % 80);
      pieces.push_back(n);
      left -= n;
    }
    const Outcome whole = feed(*set, body, {});
    const Outcome cut = feed(*set, body, pieces);
    ASSERT_EQ(cut.blocked, whole.blocked) << "case " << t;
    if (attack) ASSERT_TRUE(cut.blocked) << "case " << t;
    if (!cut.blocked) ASSERT_EQ(cut.forwarded, body) << "case " << t;
    ASSERT_EQ(body.rfind(cut.forwarded, 0), 0u) << "case " << t;  // a prefix, in order
  }
}

TEST(InspectingBodySinkTest, LargePiecesPassInFewWrites) {
  const auto set = dropTable();
  ASSERT_NE(set, nullptr);
  SignatureScratch scratch;
  BodyScan scan;
  Matches m;
  Collect next;
  InspectingBodySink sink(scan, m);
  sink.start(&next);
  scan.start(set.get(), scratch.forSet(*set));
  const std::string piece(64 * 1024, 'a');
  for (int i = 0; i < 4; ++i) sink.onBodyData(piece);
  sink.finish();
  EXPECT_FALSE(sink.blocked());
  EXPECT_EQ(next.body.size(), 4 * piece.size());
  EXPECT_LE(next.pieces, 4u * 2 + 1);
}

}  // namespace
}  // namespace dpuguard::proxy
