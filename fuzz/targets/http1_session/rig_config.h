// The config the SessionRig's Worker runs (http1_session fuzz target): inspection on, written
// from strings. Two clusters (api, llm: the rig's two upstream listeners), routes by path,
// method, host and header, a policy per identity (operator, frontend, default deny),
// signatures in path, query, header, body and prompt, inference validation with routing by
// model, a rate limit. Nothing that would carry state from run to run into a verdict: no
// passive ejection, no token budget, no edge baseline, a rate limit that never runs dry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dpuguard::fuzz::session {

// The rule file the config names (rules.yaml, beside it): head rules block, body rules
// only alert (a streamed block forwards a prefix that depends on the reads), prompt rules block.
extern const std::string_view kRigRules;

// The config, with the upstream listeners' ports and the flow log's path.
std::string rigConfig(uint16_t api_port, uint16_t llm_port, const std::string& flow_log);

}  // namespace dpuguard::fuzz::session
