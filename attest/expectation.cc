// Expectation: parsing (simdjson DOM, bounded) and the check of a log against it.
#include "attest/expectation.h"

#include <simdjson.h>

#include <algorithm>

#include "attest/device_key.h"
#include "attest/digest.h"
#include "attest/json_fields.h"

namespace dpuguard::attest {
namespace {

std::string describe(const Measurement& m) {
  return "component '" + m.component + "' (" + m.path + ")";
}

}  // namespace

bool Expectation::parse(std::string_view json, Expectation* out, std::string* why) {
  if (json.size() > kMaxBytes) {
    *why = "the expectation is larger than " + std::to_string(kMaxBytes) + " bytes";
    return false;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (const auto err = parser.parse(simdjson::padded_string(json)).get(root)) {
    *why = std::string("the expectation is not JSON: ") + simdjson::error_message(err);
    return false;
  }
  simdjson::dom::object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) {
    *why = "the expectation is not a JSON object";
    return false;
  }
  if (std::string p = fieldsProblem(top, {"expect"}, "the expectation"); !p.empty()) {
    *why = std::move(p);
    return false;
  }
  simdjson::dom::array list;
  if (root["expect"].get_array().get(list) != simdjson::SUCCESS) {
    *why = "the expectation needs an 'expect' list";
    return false;
  }
  out->entries_.clear();
  for (simdjson::dom::element e : list) {
    const std::string where = "expect entry " + std::to_string(out->entries_.size());
    if (out->entries_.size() >= MeasurementLog::kMaxEntries) {
      *why = "the expectation has more than " + std::to_string(MeasurementLog::kMaxEntries) +
             " entries";
      return false;
    }
    simdjson::dom::object fields;
    if (e.get_object().get(fields) != simdjson::SUCCESS) {
      *why = where + " is not an object";
      return false;
    }
    if (std::string p = fieldsProblem(fields, {"component", "path", "sha256"}, where); !p.empty()) {
      *why = std::move(p);
      return false;
    }
    Entry entry;
    std::string_view component, path;
    if (e["component"].get_string().get(component) != simdjson::SUCCESS) {
      *why = where + " needs a 'component'";
      return false;
    }
    entry.component = std::string(component);
    if (e["path"].get_string().get(path) == simdjson::SUCCESS) {
      if (!isEncodedPath(path)) {
        *why = where + ": 'path' is not a percent-encoded path as the log writes it";
        return false;
      }
      entry.path = std::string(path);
      entry.any_path = false;
    }
    simdjson::dom::array values;
    std::string_view one;
    if (e["sha256"].get_string().get(one) == simdjson::SUCCESS) {
      entry.sha256.emplace_back(one);
    } else if (e["sha256"].get_array().get(values) == simdjson::SUCCESS) {
      for (simdjson::dom::element v : values) {
        if (v.get_string().get(one) != simdjson::SUCCESS || entry.sha256.size() >= kMaxValues) {
          *why = where + ": 'sha256' must list at most " + std::to_string(kMaxValues) + " digests";
          return false;
        }
        entry.sha256.emplace_back(one);
      }
    }
    if (entry.sha256.empty()) {
      *why = where + " needs 'sha256': a digest or a list of them";
      return false;
    }
    for (const std::string& d : entry.sha256) {
      if (!isSha256Hex(d)) {
        *why = where + ": '" + d + "' is not 64 lower-case hex digits";
        return false;
      }
    }
    // One entry per component and path: a second would never be matched (list several
    // accepted digests in one entry's sha256 instead).
    for (size_t i = 0; i < out->entries_.size(); ++i) {
      const Entry& o = out->entries_[i];
      if (o.component == entry.component && o.any_path == entry.any_path && o.path == entry.path) {
        *why = where + " repeats expect entry " + std::to_string(i) + " (component '" +
               entry.component + "'" + (entry.any_path ? "" : ", path '" + entry.path + "'") +
               "): list every accepted digest in one entry's sha256";
        return false;
      }
    }
    out->entries_.push_back(std::move(entry));
  }
  return true;
}

std::string Expectation::fromLog(const MeasurementLog& log) {
  std::string out = "{\"expect\":[\n";
  const auto& entries = log.entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    const Measurement& m = entries[i];
    out += "  {\"component\":\"" + m.component + "\",\"path\":\"" + m.path + "\",\"sha256\":[\"" +
           m.sha256 + "\"]}" + (i + 1 < entries.size() ? ",\n" : "\n");
  }
  return out + "]}\n";
}

std::string Expectation::check(const MeasurementLog& log) const {
  std::vector<bool> seen(entries_.size(), false);
  for (const Measurement& m : log.entries()) {
    bool known = false;
    bool matched = false;
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (e.component != m.component || (!e.any_path && e.path != m.path)) continue;
      known = true;
      if (std::find(e.sha256.begin(), e.sha256.end(), m.sha256) != e.sha256.end()) {
        matched = true;
        seen[i] = true;
        break;
      }
    }
    if (!known) return describe(m) + " is not in the expectation";
    if (!matched) return describe(m) + " differs: sha256 " + m.sha256 + " is not an expected value";
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (seen[i]) continue;
    const Entry& e = entries_[i];
    return "expected component '" + e.component + "'" + (e.any_path ? "" : " (" + e.path + ")") +
           " is missing from the log";
  }
  return "";
}

std::string verifyQuote(const SignedQuote& q, std::string_view nonce, std::string_view public_pem,
                        const Expectation& expect) {
  std::string why;
  if (!verifyEd25519(public_pem, q.quote.signedBytes(), q.signature, &why)) return why;
  if (q.quote.nonce != nonce) return "the quote answers another nonce (a replay?)";
  if (std::string differs = expect.check(q.quote.log); !differs.empty()) return differs;
  return "";
}

}  // namespace dpuguard::attest
