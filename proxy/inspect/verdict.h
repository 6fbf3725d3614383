// Verdict: what an inspection phase decides about an exchange. Phases return one and the
// session acts on it; the pipeline itself never touches sockets, threads or the clock.
#pragma once

#include <cstdint>
#include <string_view>

namespace dpuguard::proxy::inspect {

enum class Action : uint8_t {
  kContinue,  // go on (possibly tagged: an alert, a shadow deny, a learned edge)
  kBlock,     // answer `status` locally; nothing more goes upstream
  kCut,       // the answer in progress ends here (a notice closes it); nothing more is forwarded
};

struct Verdict {
  Action action = Action::kContinue;
  int status = 0;  // kBlock: 403, 400, 429 ...
  std::string_view
      rule;  // the rule that decided ("default" when none matched); static or config-owned
  std::string_view tag;      // "allow", "deny", "shadow_deny", "unknown_edge", "learned" ...
  std::string_view message;  // kBlock: the reason given to the client
  // kBlock, OpenAI-style error details (inference validation and limits); empty: defaults.
  std::string_view code;  // the body's "code" ("model_not_allowed"); default: the outcome name
  std::string_view
      error_type;          // the body's "type" ("invalid_request_error"); default "dpuguard_error"
  std::string_view param;  // the request parameter at fault ("max_tokens"), if one is
  uint32_t retry_after_s = 0;  // 429: sent as Retry-After

  bool blocked() const { return action == Action::kBlock; }
  bool isCut() const { return action == Action::kCut; }
  static Verdict allow(std::string_view rule, std::string_view tag) {
    Verdict v;
    v.rule = rule;
    v.tag = tag;
    return v;
  }
  static Verdict block(int status, std::string_view rule, std::string_view tag,
                       std::string_view message) {
    Verdict v = allow(rule, tag);
    v.action = Action::kBlock;
    v.status = status;
    v.message = message;
    return v;
  }
  static Verdict cut(std::string_view rule, std::string_view tag) {
    Verdict v = allow(rule, tag);
    v.action = Action::kCut;
    return v;
  }
  // A refusal in the OpenAI error shape: {"error":{"message","type","param","code"}}.
  static Verdict refuse(int status, std::string_view rule, std::string_view code,
                        std::string_view type, std::string_view param, std::string_view message) {
    Verdict v = block(status, rule, code, message);
    v.code = code;
    v.error_type = type;
    v.param = param;
    return v;
  }
};

}  // namespace dpuguard::proxy::inspect
