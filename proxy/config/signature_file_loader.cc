#include "proxy/config/signature_file_loader.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "proxy/config/map_reader.h"

namespace dpuguard::proxy {
namespace {

constexpr size_t kMaxPatternBytes = 4096;

void readWhere(Context& ctx, const YAML::Node& n, inspect::Signature& s) {
  if (!n.IsSequence() || n.size() == 0) {
    ctx.error(n.Mark(),
              "'where' must be a non-empty list of path, query, header, body, prompt, completion");
    return;
  }
  // The order of inspect::Where.
  const Keys names = {"path", "query", "header", "body", "prompt", "completion"};
  for (const YAML::Node& w : n) {
    const std::string v = w.IsScalar() ? w.Scalar() : "";
    const auto it = std::find(names.begin(), names.end(), v);
    if (it == names.end()) {
      ctx.error(w.Mark(),
                "'where' entries are path, query, header, body, prompt or completion, got '" + v +
                    "'" + didYouMean(v, names));
      continue;
    }
    s.where |= static_cast<uint8_t>(1u << (it - names.begin()));
  }
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
        MapReader r(ctx, n, "rule #" + std::to_string(i + 1), {"id", "pattern", "where", "action", "severity", "caseless"});
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
            ctx.error(p.Mark(), std::string("'pattern' has a raw control character (") + hex + ") at byte " +
                                    std::to_string(control - s.pattern.begin() + 1) +
                                    "; write it as an escape (\\x.., \\t, \\n) if it is meant");
          } else {  // compile errors point at the pattern itself
            s.line = p.Mark().line + 1;
            s.column = p.Mark().column + 1;
          }
        }
        if (YAML::Node w = r.get("where"); w.IsDefined()) readWhere(ctx, w, s);
        if (YAML::Node a = r.get("action"); a.IsDefined()) {
          const std::string v = a.IsScalar() ? a.Scalar() : "";
          if (v == "block") s.action = inspect::SignatureAction::kBlock;
          else if (v == "alert") s.action = inspect::SignatureAction::kAlert;
          else ctx.error(a.Mark(), "'action' must be block or alert, got '" + v + "'" + didYouMean(v, {"block", "alert"}));
        }
        if (YAML::Node sv = r.get("severity"); sv.IsDefined()) {
          const Keys levels = {"low", "medium", "high", "critical"};
          if (std::find(levels.begin(), levels.end(), s.severity) == levels.end()) {
            ctx.error(sv.Mark(), "'severity' must be low, medium, high or critical, got '" + s.severity + "'" +
                                     didYouMean(s.severity, levels));
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

std::vector<inspect::Signature> loadSignatureFile(const std::string& path, std::vector<ConfigError>* errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors->push_back({path, 0, 0, "cannot open rule file"});
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return loadSignatureText(ss.str(), path, errors);
}

}  // namespace dpuguard::proxy
