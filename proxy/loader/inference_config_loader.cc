// Loader for `inference` (validated routes, routing by model, per-identity limits) and
// `rate_limits` (token buckets per identity and route). Every error is positioned.
#include "proxy/loader/inference_config_loader.h"

#include <charconv>

namespace dpuguard::proxy {
namespace {

Keys routeNames(const Config& c) {
  Keys names;
  for (const RouteConfig& r : c.routes) names.push_back(r.name);
  return names;
}

void readRateLimits(Context& ctx, const YAML::Node& node, const Config& c,
                    std::vector<RateLimitRule>& out) {
  const Keys routes = routeNames(c);
  forEachItem(ctx, node, "rate_limits", [&](const YAML::Node& n, size_t i) {
    RateLimitRule rule;
    MapReader r(ctx, n, "rate limit #" + std::to_string(i + 1),
                {"id", "identities", "routes", "per_route", "rate", "burst"});
    readRuleId(ctx, r, "rate limit", rule.id);
    r.require("rate");
    rule.identities = readStringList(ctx, r.get("identities"), "identities");
    rule.routes = readStringList(ctx, r.get("routes"), "routes");
    checkNames(ctx, r.get("routes"), rule.routes, routes, "rate limit '" + rule.id + "'", "route");
    r.readBool("per_route", rule.per_route);
    if (YAML::Node rate = r.get("rate"); rate.IsDefined()) {
      std::string why;
      if (!rate.IsScalar() || !parseRate(rate.Scalar(), rule.rate, &why)) {
        ctx.error(rate.Mark(), "rate limit '" + rule.id + "': 'rate' " +
                                   (rate.IsScalar() ? why : "must be a string like \"10/s\""));
      }
    }
    r.readUint("burst", rule.burst, 1, 1000000000);
    for (const RateLimitRule& other : out) {
      if (!rule.id.empty() && other.id == rule.id)
        ctx.error(n.Mark(), "duplicate rate limit id '" + rule.id + "'");
    }
    out.push_back(std::move(rule));
  });
}

void readInference(Context& ctx, const YAML::Node& node, const Config& c, InferenceConfig& inf) {
  MapReader r(ctx, node, "inference",
              {"routes", "max_body_bytes", "max_response_bytes", "models", "limits"});
  r.require("routes");
  const Keys routes = routeNames(c);
  inf.routes = readStringList(ctx, r.get("routes"), "routes");
  if (YAML::Node n = r.get("routes"); n.IsDefined() && inf.routes.empty()) {
    ctx.error(n.Mark(),
              "inference: 'routes' must list the routes that carry OpenAI-compatible requests");
  }
  checkNames(ctx, r.get("routes"), inf.routes, routes, "inference", "route");
  for (const std::string& name : inf.routes) {
    const auto it = std::find(routes.begin(), routes.end(), name);
    if (it != routes.end()) inf.route_indexes.push_back(static_cast<size_t>(it - routes.begin()));
  }
  r.readUint("max_body_bytes", inf.max_body_bytes, 64, 64u << 20);
  r.readUint("max_response_bytes", inf.max_response_bytes, 1024, 256u << 20);

  Keys clusters;
  for (const ClusterConfig& cl : c.clusters) clusters.push_back(cl.name);
  if (YAML::Node models = r.get("models"); models.IsDefined()) {
    if (!models.IsMap()) {
      ctx.error(models.Mark(),
                "inference: 'models' must map model names to clusters (model: cluster)");
    } else {
      for (auto it = models.begin(); it != models.end(); ++it) {
        ModelRoute m{it->first.Scalar(), it->second.IsScalar() ? it->second.Scalar() : "", 0};
        const auto found = std::find(clusters.begin(), clusters.end(), m.cluster);
        if (found == clusters.end()) {
          ctx.error(it->second.Mark(), "inference: model '" + m.model + "': unknown cluster '" +
                                           m.cluster + "'" + didYouMean(m.cluster, clusters));
        } else {
          m.cluster_index = static_cast<size_t>(found - clusters.begin());
        }
        for (const ModelRoute& other : inf.models) {
          if (other.model == m.model)
            ctx.error(it->first.Mark(), "inference: model '" + m.model + "' is listed twice");
        }
        inf.models.push_back(std::move(m));
      }
    }
  }
  forEachItem(ctx, r.get("limits"), "limits", [&](const YAML::Node& n, size_t i) {
    InferenceLimit lim;
    MapReader lr(ctx, n, "inference limit #" + std::to_string(i + 1),
                 {"identities", "models", "max_tokens", "max_prompt_bytes", "tokens_per_minute"});
    lr.require("identities");
    lim.identities = readStringList(ctx, lr.get("identities"), "identities");
    lim.models = readStringList(ctx, lr.get("models"), "models");
    if (!inf.models.empty()) {
      for (size_t k = 0; k < lim.models.size(); ++k) {
        const bool routed =
            std::any_of(inf.models.begin(), inf.models.end(),
                        [&](const ModelRoute& m) { return m.model == lim.models[k]; });
        if (!routed) {
          ctx.error(lr.get("models")[k].Mark(),
                    "inference limit #" + std::to_string(i + 1) + ": model '" + lim.models[k] +
                        "' is not under inference.models, so no request for it can pass");
        }
      }
    }
    lr.readUint("max_tokens", lim.max_tokens, 1, 1u << 24);
    lr.readUint("max_prompt_bytes", lim.max_prompt_bytes, 1, inf.max_body_bytes);
    lr.readUint("tokens_per_minute", lim.tokens_per_minute, 1, 1000000000);
    inf.limits.push_back(std::move(lim));
  });
}

}  // namespace

bool parseRate(const std::string& text, Rate& out, std::string* why) {
  const size_t slash = text.find('/');
  uint64_t amount = 0;
  const char* end = text.data() + (slash == std::string::npos ? text.size() : slash);
  const auto [p, ec] = std::from_chars(text.data(), end, amount);
  const std::string unit = slash == std::string::npos ? "" : text.substr(slash + 1);
  const uint64_t period = unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : 0;
  if (ec != std::errc() || p != end || amount == 0 || amount > 1000000000 || period == 0) {
    if (why)
      *why =
          "must be COUNT/UNIT with a COUNT of 1 or more and UNIT s, m or h (\"10/s\", \"600/m\"), "
          "got '" +
          text + "'";
    return false;
  }
  out = Rate{amount, period};
  return true;
}

void readInferenceAndRates(Context& ctx, MapReader& top, Config& c) {
  if (YAML::Node n = top.get("inference"); n.IsDefined())
    readInference(ctx, n, c, c.inspect.inference);
  if (YAML::Node n = top.get("rate_limits"); n.IsDefined())
    readRateLimits(ctx, n, c, c.inspect.rate_limits);
}

}  // namespace dpuguard::proxy
