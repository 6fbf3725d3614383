// LoadBalancer: distribution, least-request choice, ejection and its expiry.
#include "proxy/router/load_balancer.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace dpuguard::proxy {
namespace {

struct Fixture {
  explicit Fixture(LbPolicy policy, size_t n = 3, uint32_t eject_after = 2) {
    cluster.lb = policy;
    cluster.eject_after_failures = eject_after;
    cluster.eject_ms = 1000;
    cluster.max_ejection_percent = 100;  // the bounds have tests of their own below
    health = std::vector<EndpointHealth>(n);
    std::vector<EndpointHealth*> ptrs;
    for (auto& h : health) ptrs.push_back(&h);
    lb = std::make_unique<LoadBalancer>(cluster, ptrs);
  }
  ClusterConfig cluster;
  std::vector<EndpointHealth> health;
  std::unique_ptr<LoadBalancer> lb;
};

TEST(LoadBalancerTest, RoundRobinCycles) {
  Fixture f(LbPolicy::kRoundRobin);
  std::vector<int> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(f.lb->pick(0));
  EXPECT_EQ(picks, (std::vector<int>{0, 1, 2, 0, 1, 2}));
}

TEST(LoadBalancerTest, LeastRequestPrefersIdle) {
  Fixture f(LbPolicy::kLeastRequest);
  f.health[0].active = 5;
  f.health[1].active = 1;
  f.health[2].active = 3;
  EXPECT_EQ(f.lb->pick(0), 1);
  f.health[1].active = 9;
  EXPECT_EQ(f.lb->pick(0), 2);
}

TEST(LoadBalancerTest, EjectsAfterConsecutiveFailuresAndReturns) {
  Fixture f(LbPolicy::kRoundRobin, 2, 2);
  f.lb->onFailure(0, 100);
  f.lb->onSuccess(0);  // a success resets the streak
  f.lb->onFailure(0, 100);
  EXPECT_EQ(f.health[0].ejected_until_ms, 0);
  f.lb->onFailure(0, 100);
  EXPECT_EQ(f.health[0].ejected_until_ms, 1100);
  EXPECT_EQ(f.health[0].ejections, 1u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(f.lb->pick(500), 1);
  // Ejection over: back in rotation, one failure from being ejected again.
  std::vector<int> picks = {f.lb->pick(1200), f.lb->pick(1200)};
  std::sort(picks.begin(), picks.end());
  EXPECT_EQ(picks, (std::vector<int>{0, 1}));
  f.lb->onFailure(0, 1200);
  EXPECT_EQ(f.health[0].ejected_until_ms, 2200);
}

TEST(LoadBalancerTest, AllEjectedMeansNoEndpoint) {
  Fixture f(LbPolicy::kRoundRobin, 2, 1);
  f.lb->onFailure(0, 0);
  f.lb->onFailure(1, 0);
  EXPECT_EQ(f.lb->pick(10), -1);
}

TEST(LoadBalancerTest, ExcludeIsSkippedUnlessItIsTheOnlyOne) {
  Fixture f(LbPolicy::kRoundRobin, 2, 0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(f.lb->pick(0, 0), 1);
  Fixture one(LbPolicy::kRoundRobin, 1, 0);
  EXPECT_EQ(one.lb->pick(0, 0), 0);
}

TEST(LoadBalancerTest, MaxEjectionPercentKeepsPartOfTheCluster) {
  Fixture f(LbPolicy::kRoundRobin, 4, 1);
  f.cluster.max_ejection_percent = 50;
  Counter refused{0};
  std::vector<EndpointHealth*> ptrs;
  for (auto& h : f.health) ptrs.push_back(&h);
  LoadBalancer lb(f.cluster, ptrs);
  lb.setCounters(nullptr, &refused);
  for (size_t i = 0; i < 4; ++i) lb.onFailure(i, 100);
  EXPECT_EQ(lb.available(100), 2u);  // half of four may go, no more
  EXPECT_EQ(refused.load(), 2u);
}

TEST(LoadBalancerTest, TheLastEndpointIsNeverEjectedBelowOneHundredPercent) {
  Fixture f(LbPolicy::kRoundRobin, 1, 1);
  f.cluster.max_ejection_percent = 99;
  std::vector<EndpointHealth*> ptrs{&f.health[0]};
  LoadBalancer lb(f.cluster, ptrs);
  for (int i = 0; i < 5; ++i) lb.onFailure(0, 100);
  EXPECT_EQ(f.health[0].ejected_until_ms, 0);
  EXPECT_EQ(lb.pick(200), 0);
}

TEST(LoadBalancerTest, FailingHealthChecksAvoidedThenPanic) {
  Fixture f(LbPolicy::kRoundRobin, 2, 1);
  Counter panics{0};
  f.lb->setCounters(&panics, nullptr);
  std::atomic<uint8_t> a{static_cast<uint8_t>(CheckState::kUnhealthy)};
  std::atomic<uint8_t> b{static_cast<uint8_t>(CheckState::kHealthy)};
  f.lb->setCheck(0, &a);
  f.lb->setCheck(1, &b);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(f.lb->pick(0), 1);
  b = static_cast<uint8_t>(CheckState::kUnhealthy);
  std::vector<int> picks = {f.lb->pick(0), f.lb->pick(0)};  // none healthy: all of them
  std::sort(picks.begin(), picks.end());
  EXPECT_EQ(picks, (std::vector<int>{0, 1}));
  EXPECT_EQ(panics.load(), 2u);
}

TEST(LoadBalancerTest, ConnectTimeoutsAfterAnAnswerDoNotCount) {
  Fixture f(LbPolicy::kRoundRobin, 1, 1);
  EXPECT_TRUE(f.lb->connectTimeoutCounts(0, 100));  // never answered: evidence
  f.lb->onSuccess(0, 150);
  EXPECT_TRUE(f.lb->connectTimeoutCounts(0, 200));   // answered before that connect began
  EXPECT_FALSE(f.lb->connectTimeoutCounts(0, 120));  // answered while it waited: alive
}

}  // namespace
}  // namespace dpuguard::proxy
