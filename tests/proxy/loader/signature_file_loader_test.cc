// loadSignatureText: a rule file's problems are positioned errors, including the typo that
// would otherwise ship a rule that never fires (a raw control byte in a pattern).
#include "proxy/loader/signature_file_loader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dpuguard::proxy {
namespace {

std::string rule(const std::string& pattern_line) {
  return "rules:\n  - id: r1\n    pattern: " + pattern_line +
         "\n    where: [body]\n    action: block\n    severity: high\n";
}

TEST(SignatureFileLoader, ReadsARule) {
  std::vector<ConfigError> errors;
  const auto sigs = loadSignatureText(rule(R"('\bsk-[a-z]{8}\b')"), "r.yaml", &errors);
  ASSERT_TRUE(errors.empty()) << errors[0].toString();
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].pattern, R"(\bsk-[a-z]{8}\b)");
  EXPECT_EQ(sigs[0].where, 1u << static_cast<unsigned>(inspect::Where::kBody));
  EXPECT_EQ(sigs[0].line, 3);  // the pattern's position, for compile errors
  EXPECT_EQ(sigs[0].column, 14);
}

TEST(SignatureFileLoader, PromptIsAPlaceOfItsOwn) {
  std::vector<ConfigError> errors;
  std::string text = rule(R"('\bsk-[a-z]{8}\b')");
  text.replace(text.find("[body]"), 6, "[body, prompt]");
  const auto sigs = loadSignatureText(text, "r.yaml", &errors);
  ASSERT_TRUE(errors.empty()) << errors[0].toString();
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].where, (1u << static_cast<unsigned>(inspect::Where::kBody)) |
                               (1u << static_cast<unsigned>(inspect::Where::kPrompt)));
  text.replace(text.find("[body, prompt]"), 14, "[prompts]");
  loadSignatureText(text, "r.yaml", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].toString(),
            "r.yaml:4:13: 'where' entries must be path, query, header, body, prompt or "
            "completion, got 'prompts' (did you mean 'prompt'?)");
}

TEST(SignatureFileLoader, CompletionReadsTheAnswer) {
  std::vector<ConfigError> errors;
  std::string text = rule(R"('\bAKIA[0-9A-Z]{16}')");
  text.replace(text.find("[body]"), 6, "[completion]");
  const auto sigs = loadSignatureText(text, "r.yaml", &errors);
  ASSERT_TRUE(errors.empty()) << errors[0].toString();
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].where, 1u << static_cast<unsigned>(inspect::Where::kCompletion));
  EXPECT_EQ(sigs[0].route, -1);  // a rule file's rules hold on every route; canaries are per route
  text.replace(text.find("[completion]"), 12, "[completions]");
  loadSignatureText(text, "r.yaml", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].toString().find("(did you mean 'completion'?)"), std::string::npos)
      << errors[0].toString();
}

TEST(SignatureFileLoader, ABlockingCompletionRuleMayNotEndOnTheNextByte) {
  for (const char* pattern :
       {R"('AKIA[0-9A-Z]{16}\b')", R"('(?:AKIA[0-9A-Z]{16}$)')", R"('secret\z')"}) {
    std::vector<ConfigError> errors;
    std::string text = rule(pattern);
    text.replace(text.find("[body]"), 6, "[completion]");
    loadSignatureText(text, "r.yaml", &errors);
    ASSERT_EQ(errors.size(), 1u) << pattern;
    EXPECT_EQ(
        errors[0].toString().rfind("r.yaml:3:14: a blocking completion rule cannot end in", 0), 0u)
        << errors[0].toString();
    // As an alert, or on bodies, it is fine; so is an escaped backslash before the b.
    errors.clear();
    std::string alert = text;
    alert.replace(alert.find("action: block"), 13, "action: alert");
    loadSignatureText(alert, "r.yaml", &errors);
    EXPECT_TRUE(errors.empty()) << pattern;
    loadSignatureText(rule(pattern), "r.yaml", &errors);
    EXPECT_TRUE(errors.empty()) << pattern;
  }
  std::vector<ConfigError> errors;
  std::string text = rule(R"('path\\b')");
  text.replace(text.find("[body]"), 6, "[completion]");
  loadSignatureText(text, "r.yaml", &errors);
  EXPECT_TRUE(errors.empty()) << errors[0].toString();
}

TEST(SignatureFileLoader, ARawControlCharacterInAPatternIsAPositionedError) {
  // YAML's double quotes turn "\b" into a backspace: the rule would need one to match.
  std::vector<ConfigError> errors;
  loadSignatureText(rule(R"("\bsk-[a-z]{8}")"), "r.yaml", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(
      errors[0].toString(),
      "r.yaml:3:14: 'pattern' has a raw control character (0x08) at byte 1; write it as an escape "
      "(\\x.., \\t, \\n) if it is meant");
  errors.clear();
  loadSignatureText(rule("\"a\\tb\""), "r.yaml", &errors);  // a YAML tab escape: a raw tab byte
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].toString().find("(0x09) at byte 2"), std::string::npos)
      << errors[0].toString();
  errors.clear();
  loadSignatureText(rule(R"('a\tb\x08')"), "r.yaml", &errors);  // the regex's own escapes are fine
  EXPECT_TRUE(errors.empty()) << errors[0].toString();
}

}  // namespace
}  // namespace dpuguard::proxy
