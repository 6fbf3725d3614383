// LoadBalancer: distribution, least-request choice, ejection and its expiry.
#include "proxy/router/load_balancer.h"

#include <gtest/gtest.h>

namespace dpuguard::proxy {
namespace {

struct Fixture {
  explicit Fixture(LbPolicy policy, size_t n = 3, uint32_t eject_after = 2) {
    cluster.lb = policy;
    cluster.eject_after_failures = eject_after;
    cluster.eject_ms = 1000;
    health.resize(n);
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

}  // namespace
}  // namespace dpuguard::proxy
