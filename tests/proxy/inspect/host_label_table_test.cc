// HostLabelTable and identity lookup: the host labels only inside `within` and up to
// max_labels; withdrawals must name the label they take back; the longest prefix wins across
// the config's labels and the host's, the host's on a tie.
#include "proxy/inspect/host_label_table.h"

#include <gtest/gtest.h>

#include "proxy/inspect/pipeline.h"

namespace dpuguard::proxy::inspect {
namespace {

IpPrefix net(std::string_view text) {
  std::string why;
  auto p = IpPrefix::parse(text, &why);
  EXPECT_TRUE(p) << why;
  return p.value_or(IpPrefix{});
}

IpAddress addr(std::string_view text) { return net(text).network; }

HostLabelsConfig delegate(std::vector<std::string_view> within, uint32_t max_labels = 4096) {
  HostLabelsConfig c;
  c.from = "labeler";
  for (std::string_view w : within) c.within.push_back(net(w));
  c.max_labels = max_labels;
  return c;
}

using Result = HostLabelTable::Result;

TEST(HostLabelTableTest, LabelsOnlyDelegatedNetworks) {
  HostLabelTable t;
  t.configure(delegate({"10.1.0.0/16", "fd00::/8"}));
  EXPECT_EQ(t.apply(net("10.1.2.0/24"), "spiffe://c/ns/a/sa/x", false), Result::kApplied);
  EXPECT_EQ(t.apply(net("fd00:1::/32"), "spiffe://c/ns/a/sa/v6", false), Result::kApplied);
  EXPECT_EQ(t.apply(net("10.2.0.0/24"), "spiffe://c/ns/a/sa/x", false), Result::kOutside);
  EXPECT_EQ(t.apply(net("10.0.0.0/8"), "spiffe://c/ns/a/sa/x", false), Result::kOutside);  // wider than delegated
  EXPECT_EQ(t.apply(net("0.0.0.0/0"), "everyone", false), Result::kOutside);
  ASSERT_EQ(t.size(), 2u);
  auto m = t.published();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->lookup(addr("10.1.2.77")), "spiffe://c/ns/a/sa/x");
  EXPECT_EQ(m->lookup(addr("fd00:1::9")), "spiffe://c/ns/a/sa/v6");
  EXPECT_EQ(m->match(addr("10.1.3.1")), nullptr);
}

TEST(HostLabelTableTest, RelabelWithdrawAndCap) {
  HostLabelTable t;
  t.configure(delegate({"10.0.0.0/8"}, 2));
  EXPECT_EQ(t.apply(net("10.0.0.1/32"), "a", false), Result::kApplied);
  EXPECT_EQ(t.apply(net("10.0.0.1/32"), "a", false), Result::kUnchanged);
  const auto before = t.published();
  EXPECT_EQ(t.published(), before) << "no change, no rebuild";
  EXPECT_EQ(t.apply(net("10.0.0.1/32"), "b", false), Result::kApplied);
  EXPECT_EQ(t.published()->lookup(addr("10.0.0.1")), "b");
  EXPECT_EQ(before->lookup(addr("10.0.0.1")), "a") << "a published map never changes under its holder";
  EXPECT_EQ(t.apply(net("10.0.0.2/32"), "c", false), Result::kApplied);
  EXPECT_EQ(t.apply(net("10.0.0.3/32"), "d", false), Result::kFull);
  EXPECT_EQ(t.apply(net("10.0.0.2/32"), "not-c", true), Result::kNotLabelled);
  EXPECT_EQ(t.apply(net("10.0.0.9/32"), "c", true), Result::kNotLabelled);
  EXPECT_EQ(t.apply(net("10.0.0.2/32"), "c", true), Result::kApplied);
  EXPECT_EQ(t.published()->match(addr("10.0.0.2")), nullptr);
  EXPECT_EQ(t.apply(net("10.0.0.3/32"), "d", false), Result::kApplied);
  t.clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.published(), nullptr);
}

TEST(HostLabelTableTest, NarrowerConfigDropsLabels) {
  HostLabelTable t;
  t.configure(delegate({"10.0.0.0/8"}));
  t.apply(net("10.1.0.0/16"), "a", false);
  t.apply(net("10.2.0.0/16"), "b", false);
  t.apply(net("10.2.3.0/24"), "c", false);
  t.configure(delegate({"10.2.0.0/16"}));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.published()->match(addr("10.1.0.1")), nullptr);
  EXPECT_EQ(t.published()->lookup(addr("10.2.3.4")), "c");
  t.configure(delegate({"10.2.0.0/16"}, 1));
  EXPECT_EQ(t.size(), 1u);
}

TEST(HostLabelTableTest, ManyLabelsLongestPrefixFirst) {
  HostLabelTable t;
  t.configure(delegate({"10.0.0.0/8"}, 100000));
  for (int i = 0; i < 4096; ++i) {
    const std::string host = "10.9." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "/32";
    ASSERT_EQ(t.apply(net(host), "pod-" + std::to_string(i), false), Result::kApplied);
  }
  t.apply(net("10.9.0.0/16"), "node", false);
  t.apply(net("10.9.0.0/20"), "rack", false);
  auto m = t.published();
  EXPECT_EQ(m->lookup(addr("10.9.3.7")), "pod-775");
  EXPECT_EQ(m->lookup(addr("10.9.15.255")), "pod-4095");
  EXPECT_EQ(m->lookup(addr("10.9.16.1")), "node");
  t.apply(net("10.9.3.7/32"), "pod-775", true);
  EXPECT_EQ(t.published()->lookup(addr("10.9.3.7")), "rack");
}

TEST(HostLabelTableTest, PipelineMergesConfigAndHostLabels) {
  Config c;
  c.inspect.identities = {{"10.0.0.0/8", net("10.0.0.0/8"), "config-wide"},
                          {"10.1.1.0/24", net("10.1.1.0/24"), "config-narrow"}};
  c.inspect.unknown_identity = "nobody";
  c.host_channel.labels = delegate({"10.0.0.0/8"});
  Pipeline p(c);
  EXPECT_TRUE(p.active());
  HostLabelTable t;
  t.configure(c.host_channel.labels);
  t.apply(net("10.1.0.0/16"), "host-16", false);
  t.apply(net("10.1.1.0/24"), "host-24", false);
  t.apply(net("10.1.1.128/25"), "host-25", false);
  auto m = t.published();
  EXPECT_EQ(p.identityOf(addr("10.1.1.200"), m.get()), "host-25");   // longer than the config's
  EXPECT_EQ(p.identityOf(addr("10.1.1.5"), m.get()), "host-24");     // a tie: the host's
  EXPECT_EQ(p.identityOf(addr("10.1.2.5"), m.get()), "host-16");     // longer than config-wide
  EXPECT_EQ(p.identityOf(addr("10.7.0.1"), m.get()), "config-wide");
  EXPECT_EQ(p.identityOf(addr("192.168.0.1"), m.get()), "nobody");
  EXPECT_EQ(p.identityOf(addr("10.1.1.5"), nullptr), "config-narrow");
}

}  // namespace
}  // namespace dpuguard::proxy::inspect
