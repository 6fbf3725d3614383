// Loader for `host_channel`: socket directory, rings, the events backend and host labels.
#include "proxy/loader/host_channel_loader.h"

namespace dpuguard::proxy {
namespace {

void readHostLabels(Context& ctx, const YAML::Node& node, HostLabelsConfig& l) {
  MapReader r(ctx, node, "host_channel.labels", {"from", "within", "max_labels"});
  r.require("from");
  r.require("within");
  r.readString("from", l.from);
  if (YAML::Node f = r.get("from"); f.IsDefined() && !isHostBackendName(l.from)) {
    ctx.error(f.Mark(),
              "host_channel.labels: 'from' must be a host backend name (1-64 of a-z, 0-9, '-' and "
              "'_'), got '" +
                  l.from + "'");
  }
  r.readUint("max_labels", l.max_labels, 1, 1u << 20);
  YAML::Node within = r.get("within");
  if (!within.IsDefined()) return;
  if (!within.IsSequence() || within.size() == 0) {
    ctx.error(within.Mark(),
              "host_channel.labels: 'within' must be a non-empty list of CIDRs (the networks the "
              "host may label)");
    return;
  }
  for (const YAML::Node& c : within) {
    std::string why;
    const std::string text = c.IsScalar() ? c.Scalar() : "";
    if (auto p = IpPrefix::parse(text, &why)) {
      l.within.push_back(*p);
    } else {
      ctx.error(c.Mark(), "host_channel.labels: 'within' entry '" + text + "': " + why);
    }
  }
}

}  // namespace

void readHostChannel(Context& ctx, const YAML::Node& node, HostChannelConfig& h) {
  MapReader hr(ctx, node, "host_channel",
               {"socket_dir", "ring_slots", "ring_slot_bytes", "stall_timeout_ms",
                "handshake_timeout_ms", "events", "labels"});
  hr.readString("socket_dir", h.socket_dir);
  if (YAML::Node l = hr.get("labels"); l.IsDefined()) readHostLabels(ctx, l, h.labels);
  hr.readString("events", h.events);
  if (!h.events.empty() && !isHostBackendName(h.events)) {
    ctx.error(hr.get("events").Mark(),
              "host_channel: 'events' must be a host backend name (1-64 of a-z, 0-9, '-' and '_'), "
              "got '" +
                  h.events + "'");
  }
  hr.readUint("ring_slots", h.ring_slots, 2, 65536);
  hr.readUint("ring_slot_bytes", h.ring_slot_bytes, 1024, 1u << 20);
  hr.readUint("stall_timeout_ms", h.stall_timeout_ms, 100, kMaxTimeoutMs);
  hr.readUint("handshake_timeout_ms", h.handshake_timeout_ms, 10, 60000);
  if ((h.ring_slots & (h.ring_slots - 1)) != 0) {
    ctx.error(node.Mark(), "host_channel: 'ring_slots' must be a power of two, got " +
                               std::to_string(h.ring_slots));
  }
  if (h.ring_slot_bytes % 64 != 0) {
    ctx.error(node.Mark(), "host_channel: 'ring_slot_bytes' must be a multiple of 64, got " +
                               std::to_string(h.ring_slot_bytes));
  }
}

}  // namespace dpuguard::proxy
