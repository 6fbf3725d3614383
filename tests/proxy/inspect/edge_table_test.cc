// EdgeTable: the observed graph per worker, capped so identities the host invents at runtime
// cannot grow it without bound.
#include "proxy/inspect/edge_table.h"

#include <gtest/gtest.h>

#include <string>

namespace dpuguard::proxy::inspect {
namespace {

TEST(EdgeTable, RecordsEdgesUpToItsCapThenCountsTheRestAsDropped) {
  EdgeTable t(2);
  const Verdict allow = Verdict::allow("r-allow", "allow");
  const Verdict deny = Verdict::block(403, "r-deny", "deny", "denied");
  t.record("spiffe://a", IdentitySource::kAddress, "chat", allow, 1000);
  t.record("spiffe://b", IdentitySource::kAddress, "chat", deny, 2000);
  t.record("spiffe://c", IdentitySource::kAddress, "chat", allow,
           3000);                                                     // a third edge: over the cap
  t.record("spiffe://a", IdentitySource::kMtls, "chat", deny, 4000);  // a known edge still counts
  EdgeMap edges;
  RuleVerdictMap rules;
  uint64_t dropped = 0;
  t.mergeInto(edges, rules, dropped);
  ASSERT_EQ(edges.size(), 2u);
  const EdgeStats& a = edges.at({"spiffe://a", "chat"});
  EXPECT_EQ((std::pair{a.allowed, a.blocked}), (std::pair<uint64_t, uint64_t>{1, 1}));
  EXPECT_EQ((std::pair{a.first_seen_ms, a.last_seen_ms}),
            (std::pair<int64_t, int64_t>{1000, 4000}));
  // Seen from its address, then over mTLS: /edges lists both sources.
  EXPECT_EQ(a.sources, sourceBit(IdentitySource::kAddress) | sourceBit(IdentitySource::kMtls));
  EXPECT_EQ(edges.at({"spiffe://b", "chat"}).sources, sourceBit(IdentitySource::kAddress));
  EXPECT_EQ(edges.count({"spiffe://c", "chat"}), 0u);
  EXPECT_EQ(dropped, 1u);
  // Verdicts per rule are bounded by the config, and count every request, dropped edge or not.
  EXPECT_EQ((rules[{"r-allow", "allow"}]), 2u);
  EXPECT_EQ((rules[{"r-deny", "deny"}]), 2u);
}

}  // namespace
}  // namespace dpuguard::proxy::inspect
