#include "proxy/loader/signature_file_loader.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "attest/regular_file.h"
#include "proxy/loader/map_reader.h"

namespace dpuguard::proxy {
namespace {

constexpr size_t kMaxPatternBytes = 4096;

constexpr EnumName<inspect::Where> kWhereNames[] = {
    {"path", inspect::Where::kPath},     {"query", inspect::Where::kQuery},
    {"header", inspect::Where::kHeader}, {"body", inspect::Where::kBody},
    {"prompt", inspect::Where::kPrompt}, {"completion", inspect::Where::kCompletion},
};

constexpr EnumName<inspect::SignatureAction> kActionNames[] = {
    {"block", inspect::SignatureAction::kBlock},
    {"alert", inspect::SignatureAction::kAlert},
};

void readWhere(Context& ctx, const YAML::Node& n, inspect::Signature& s) {
  if (!n.IsSequence() || n.size() == 0) {
    std::string names;
    for (const EnumName<inspect::Where>& w : kWhereNames)
      names += (names.empty() ? "" : ", ") + std::string(w.name);
    ctx.error(n.Mark(), "'where' must be a non-empty list of " + names);
    return;
  }
  for (const YAML::Node& w : n) {
    inspect::Where place;
    if (readEnum(ctx, w, "'where' entries", place, kWhereNames))
      s.where |= static_cast<uint8_t>(1u << static_cast<unsigned>(place));
  }
}

// Whether a pattern ends in an assertion about the byte after its match (closing groups
// ignored): \b, \B, $, \Z, \z.
bool endsOnNextByte(std::string_view pattern) {
  while (!pattern.empty() && pattern.back() == ')') pattern.remove_suffix(1);
  for (std::string_view end : {"\\b", "\\B", "\\Z", "\\z"}) {
    if (pattern.size() >= end.size() && pattern.substr(pattern.size() - end.size()) == end &&
        (pattern.size() == end.size() || pattern[pattern.size() - end.size() - 1] != '\\'))
      return true;
  }
  return !pattern.empty() && pattern.back() == '$' &&
         (pattern.size() == 1 || pattern[pattern.size() - 2] != '\\');
}

}  // namespace

std::vector<inspect::Signature> loadSignatureText(const std::string& text, const std::string& file,
                                                  std::vector<ConfigError>* errors) {
  Context ctx(file);
  std::vector<inspect::Signature> out;
  try {
    const YAML::Node root = YAML::Load(text);
    MapReader top(ctx, root, "a rule file", {"rules"});
    if (top.valid() && top.require("rules")) {
      forEachItem(ctx, top.get("rules"), "rules", [&](const YAML::Node& n, size_t i) {
        inspect::Signature s;
        MapReader r(ctx, n, "rule #" + std::to_string(i + 1),
                    {"id", "pattern", "where", "action", "severity", "caseless"});
        for (const char* key : {"id", "pattern", "where", "action", "severity"}) r.require(key);
        r.readString("id", s.id);
        r.readString("pattern", s.pattern);
        r.readString("severity", s.severity);
        r.readBool("caseless", s.caseless);
        s.file = file;
        s.line = n.Mark().line + 1;
        s.column = n.Mark().column + 1;
        if (YAML::Node id = r.get("id"); id.IsDefined() && !isToken(s.id)) {
          ctx.error(id.Mark(), "rule id '" + s.id + "' must be letters, digits, '-' and '_'");
        }
        if (YAML::Node p = r.get("pattern"); p.IsDefined()) {
          const auto control = std::find_if(s.pattern.begin(), s.pattern.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
          });
          if (s.pattern.empty() || s.pattern.size() > kMaxPatternBytes) {
            ctx.error(p.Mark(), "'pattern' must be 1-4096 bytes");
          } else if (control != s.pattern.end()) {
            // A raw control byte is a typo ("\b" written through an escaping tool becomes
            // backspace) that leaves a rule which never fires; escapes say what they mean.
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(*control));
            ctx.error(p.Mark(), std::string("'pattern' has a raw control character (") + hex +
                                    ") at byte " + std::to_string(control - s.pattern.begin() + 1) +
                                    "; write it as an escape (\\x.., \\t, \\n) if it is meant");
          } else {  // compile errors point at the pattern itself
            s.line = p.Mark().line + 1;
            s.column = p.Mark().column + 1;
          }
        }
        if (YAML::Node w = r.get("where"); w.IsDefined()) readWhere(ctx, w, s);
        r.readEnum("action", s.action, kActionNames);
        constexpr uint8_t kCompletion = 1u << static_cast<unsigned>(inspect::Where::kCompletion);
        if (YAML::Node p = r.get("pattern"); p.IsDefined() && (s.where & kCompletion) != 0 &&
                                             s.action == inspect::SignatureAction::kBlock &&
                                             endsOnNextByte(s.pattern)) {
          ctx.error(p.Mark(),
                    "a blocking completion rule cannot end in \\b, \\B, $, \\Z or \\z: the match "
                    "is only known "
                    "when the next token arrives, after the token that completed the secret has "
                    "gone out; end "
                    "the pattern on the secret's last character (or make it an alert)");
        }
        if (YAML::Node sv = r.get("severity"); sv.IsDefined()) {
          const Keys levels = {"low", "medium", "high", "critical"};
          if (std::find(levels.begin(), levels.end(), s.severity) == levels.end()) {
            ctx.error(sv.Mark(), "'severity' must be low, medium, high or critical, got '" +
                                     s.severity + "'" + didYouMean(s.severity, levels));
          }
        }
        out.push_back(std::move(s));
      });
    }
  } catch (const YAML::Exception& e) {
    ctx.error(e.mark, e.msg);
  }
  for (ConfigError& e : ctx.errors()) errors->push_back(std::move(e));
  return out;
}

std::vector<inspect::Signature> loadSignatureFile(const std::string& path,
                                                  std::vector<ConfigError>* errors,
                                                  std::string* text_read) {
  std::string text, why;
  if (!attest::readRegularFile(path, &text, &why)) {
    errors->push_back({path, 0, 0, "cannot read rule file: " + why});
    return {};
  }
  if (text_read != nullptr) *text_read = text;
  return loadSignatureText(text, path, errors);
}

}  // namespace dpuguard::proxy
