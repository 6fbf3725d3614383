// Verdict: what an inspection phase decides about an exchange. Phases return one and the
// session acts on it; the pipeline itself never touches sockets, threads or the clock.
#pragma once

#include <cstdint>
#include <string_view>

namespace dpuguard::proxy::inspect {

enum class Action : uint8_t {
  kContinue,  // go on (possibly tagged: an alert, a shadow deny, a learned edge)
  kBlock,     // answer `status` locally; nothing more goes upstream
};

struct Verdict {
  Action action = Action::kContinue;
  int status = 0;                // kBlock: 403, 400, 429 ...
  std::string_view rule;         // the rule that decided ("default" when none matched); static or config-owned
  std::string_view tag;          // "allow", "deny", "shadow_deny", "unknown_edge", "learned" ...
  std::string_view message;      // kBlock: the reason given to the client

  bool blocked() const { return action == Action::kBlock; }
  static Verdict allow(std::string_view rule, std::string_view tag) { return {Action::kContinue, 0, rule, tag, {}}; }
  static Verdict block(int status, std::string_view rule, std::string_view tag, std::string_view message) {
    return {Action::kBlock, status, rule, tag, message};
  }
};

}  // namespace dpuguard::proxy::inspect
