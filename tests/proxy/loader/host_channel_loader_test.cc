// readHostChannel: the `host_channel` key on its own, every problem at its FILE:LINE:COL.
#include "proxy/loader/host_channel_loader.h"

#include <gtest/gtest.h>

#include <string>

namespace dpuguard::proxy {
namespace {

struct Read {
  HostChannelConfig h;
  std::string errors;
};

Read read(const std::string& yaml) {
  Context ctx("h.yaml");
  Read out;
  readHostChannel(ctx, YAML::Load(yaml), out.h);
  for (const ConfigError& e : ctx.errors()) out.errors += e.toString() + "\n";
  return out;
}

TEST(HostChannelLoaderTest, DefaultsAndValues) {
  const Read none = read("{}");
  EXPECT_EQ(none.errors, "");
  EXPECT_EQ(none.h.socket_dir, "/run/dpuguard");
  EXPECT_EQ(none.h.ring_slots, 256u);
  EXPECT_TRUE(none.h.events.empty());
  const Read r = read(R"(socket_dir: /tmp/dg
ring_slots: 64
ring_slot_bytes: 4096
stall_timeout_ms: 500
handshake_timeout_ms: 50
events: audit
labels: {from: labeler, within: [10.0.0.0/8], max_labels: 8}
)");
  EXPECT_EQ(r.errors, "");
  EXPECT_EQ(r.h.socket_dir, "/tmp/dg");
  EXPECT_EQ(r.h.ring_slots, 64u);
  EXPECT_EQ(r.h.ring_slot_bytes, 4096u);
  EXPECT_EQ(r.h.stall_timeout_ms, 500u);
  EXPECT_EQ(r.h.handshake_timeout_ms, 50u);
  EXPECT_EQ(r.h.events, "audit");
  EXPECT_EQ(r.h.labels.from, "labeler");
  ASSERT_EQ(r.h.labels.within.size(), 1u);
  EXPECT_EQ(r.h.labels.max_labels, 8u);
}

TEST(HostChannelLoaderTest, ErrorsArePositioned) {
  EXPECT_EQ(read("ring_slots: 96\nring_slot_bytes: 1100\n").errors,
            "h.yaml:1:1: host_channel: 'ring_slots' must be a power of two, got 96\n"
            "h.yaml:1:1: host_channel: 'ring_slot_bytes' must be a multiple of 64, got 1100\n");
  EXPECT_EQ(read("events: Audit/x\n").errors,
            "h.yaml:1:9: host_channel: 'events' must be a host backend name (1-64 of a-z, 0-9, '-' "
            "and '_'), got "
            "'Audit/x'\n");
  EXPECT_EQ(read("socket_dri: /x\n").errors,
            "h.yaml:1:1: unknown key 'socket_dri' in host_channel (did you mean 'socket_dir'?)\n");
  EXPECT_EQ(read("labels: {from: l}\n").errors,
            "h.yaml:1:9: host_channel.labels is missing required key 'within'\n");
  EXPECT_EQ(read("[1]").errors,
            "h.yaml:1:1: host_channel must be a mapping with keys: socket_dir, ring_slots, "
            "ring_slot_bytes, "
            "stall_timeout_ms, handshake_timeout_ms, events, labels\n");
}

}  // namespace
}  // namespace dpuguard::proxy
