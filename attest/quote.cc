// Quote: signed bytes, JSON in both directions (simdjson DOM for parsing, bounded).
#include "attest/quote.h"

#include <simdjson.h>

#include <fstream>

#include "attest/digest.h"
#include "attest/json_fields.h"

namespace dpuguard::attest {
namespace {

bool isBootId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return false;
  }
  return true;
}

// A string field of `obj`, or false with *why.
bool stringField(simdjson::dom::object obj, const char* key, std::string_view* out,
                 std::string* why) {
  if (obj[key].get_string().get(*out) != simdjson::SUCCESS) {
    *why = std::string("the quote's '") + key + "' is missing or not a string";
    return false;
  }
  return true;
}

bool parseLog(simdjson::dom::array entries, MeasurementLog* log, std::string* why) {
  uint64_t index = 0;
  for (simdjson::dom::element e : entries) {
    simdjson::dom::object m;
    uint64_t i = 0;
    std::string_view component, path, sha;
    if (e.get_object().get(m) == simdjson::SUCCESS) {
      const std::string p = fieldsProblem(m, {"index", "component", "path", "sha256"},
                                          "log entry " + std::to_string(index));
      if (!p.empty()) {
        *why = "the quote's " + p;
        return false;
      }
    }
    if (e.get_object().get(m) != simdjson::SUCCESS || m["index"].get_uint64().get(i) ||
        m["component"].get_string().get(component) || m["path"].get_string().get(path) ||
        m["sha256"].get_string().get(sha)) {
      *why = "log entry " + std::to_string(index) + " needs index, component, path and sha256";
      return false;
    }
    if (i != index) {
      *why = "log entry " + std::to_string(index) + " has index " + std::to_string(i);
      return false;
    }
    if (log->entries().size() >= MeasurementLog::kMaxEntries) {
      *why = "the log has more than " + std::to_string(MeasurementLog::kMaxEntries) + " entries";
      return false;
    }
    if (!log->addEncoded(component, path, sha)) {
      *why = "log entry " + std::to_string(index) +
             ": component must be [a-z_]{1,32}, path percent-encoded (at most " +
             std::to_string(MeasurementLog::kMaxPathLength) +
             " bytes) and sha256 64 lower-case hex digits";
      return false;
    }
    ++index;
  }
  return true;
}

}  // namespace

std::string Quote::signedBytes() const {
  return "dpuguard-quote-v1\ncontext " + context + "\nnonce " + nonce + "\nboot_id " + boot_id +
         "\ntime " + std::to_string(time) + "\ncomposite " + log.composite() + "\n" +
         log.canonical();
}

std::string quoteJson(const SignedQuote& q) {
  const Quote& d = q.quote;
  const std::string log = d.log.json();
  // The log's JSON is {"entries":[...],...}: its array is the quote's "log".
  const size_t open = log.find('[');
  const size_t close = log.rfind(']');
  const std::string composite = d.log.composite();
  return "{\"version\":1,\"context\":\"" + d.context + "\",\"nonce\":\"" + d.nonce +
         "\",\"boot_id\":\"" + d.boot_id + "\",\"time\":" + std::to_string(d.time) +
         ",\"measurement_id\":\"" + composite.substr(0, MeasurementLog::kIdLength) +
         "\",\"composite\":\"" + composite + "\",\"log\":" + log.substr(open, close - open + 1) +
         ",\"signature\":\"" + toHex(q.signature) + "\"}\n";
}

std::string nonceProblem(std::string_view hex) {
  std::string bytes;
  if (hex.empty()) return "a nonce is required (nonce=HEX)";
  if (hex.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos)
    return "the nonce must be hex digits";
  if (hex.size() % 2 != 0)
    return "the nonce must be whole bytes: an even number of hex digits, not " +
           std::to_string(hex.size());
  if (!fromHex(hex, &bytes) || bytes.size() < kMinNonceBytes || bytes.size() > kMaxNonceBytes) {
    return "the nonce must be " + std::to_string(kMinNonceBytes) + " to " +
           std::to_string(kMaxNonceBytes) + " bytes (" + std::to_string(kMinNonceBytes * 2) +
           " to " + std::to_string(kMaxNonceBytes * 2) + " hex digits), not " +
           std::to_string(hex.size()) + " digits";
  }
  return "";
}

bool parseQuote(std::string_view json, SignedQuote* out, std::string* why) {
  if (json.size() > kMaxQuoteBytes) {
    *why = "the quote is larger than " + std::to_string(kMaxQuoteBytes) + " bytes";
    return false;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (const auto err = parser.parse(simdjson::padded_string(json)).get(root)) {
    *why = std::string("the quote is not JSON: ") + simdjson::error_message(err);
    return false;
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    *why = "the quote is not a JSON object";
    return false;
  }
  if (std::string p = fieldsProblem(obj,
                                    {"version", "context", "nonce", "boot_id", "time",
                                     "measurement_id", "composite", "log", "signature"},
                                    "the quote");
      !p.empty()) {
    *why = std::move(p);
    return false;
  }
  uint64_t version = 0;
  if (obj["version"].get_uint64().get(version) != simdjson::SUCCESS || version != 1) {
    *why = "the quote's version is missing or not 1";
    return false;
  }
  std::string_view context, nonce, boot_id, id, composite, signature;
  if (!stringField(obj, "context", &context, why) || !stringField(obj, "nonce", &nonce, why) ||
      !stringField(obj, "boot_id", &boot_id, why) ||
      !stringField(obj, "measurement_id", &id, why) ||
      !stringField(obj, "composite", &composite, why) ||
      !stringField(obj, "signature", &signature, why)) {
    return false;
  }
  Quote& q = out->quote;
  q = Quote{};
  if (obj["time"].get_uint64().get(q.time) != simdjson::SUCCESS) {
    *why = "the quote's 'time' is missing or not a whole number";
    return false;
  }
  if (context != kContextAdmin && context != kContextHostChannel) {
    *why = "the quote's context must be 'admin' or 'host_channel'";
    return false;
  }
  q.context = std::string(context);
  if (const std::string p = nonceProblem(nonce); !p.empty()) {
    *why = "the quote's nonce: " + p;
    return false;
  }
  if (!isBootId(boot_id)) {
    *why = "the quote's boot_id is not a boot id";
    return false;
  }
  if (!fromHex(signature, &out->signature) || out->signature.size() != kSignatureBytes) {
    *why = "the quote's signature must be " + std::to_string(kSignatureBytes * 2) + " hex digits";
    return false;
  }
  simdjson::dom::array entries;
  if (obj["log"].get_array().get(entries) != simdjson::SUCCESS) {
    *why = "the quote's 'log' is missing or not a list";
    return false;
  }
  if (!parseLog(entries, &q.log, why)) return false;
  if (q.log.composite() != composite) {
    *why = "the quote's composite does not match its log";
    return false;
  }
  if (q.log.id() != id) {
    *why = "the quote's measurement_id does not match its composite";
    return false;
  }
  q.nonce = std::string(nonce);
  q.boot_id = std::string(boot_id);
  return true;
}

std::string bootId() {
  // Read once: it cannot change under a running process, and a sandboxed thread may not open
  // files (dpuguard reads it before confining itself).
  static const std::string id = [] {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string line;
    std::getline(in, line);
    return isBootId(line) ? line : "";
  }();
  return id;
}

}  // namespace dpuguard::attest
