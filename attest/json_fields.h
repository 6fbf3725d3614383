// The keys of a JSON object an attestation document may hold, each at most once. JSON allows
// a key twice and parsers disagree on which one counts (simdjson's lookup takes the first,
// Python's json the last), so a signed or pinned document with a key twice could mean one
// thing to us and another to the next tool: it is refused, as is a key we do not know (a
// typo such as "paht" would otherwise leave an entry matching any path).
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace dpuguard::attest {

// "" when every key of `obj` is one of `allowed` and none repeats, else why not (`what`
// names the object: "the quote", "log entry 3", ...).
inline std::string fieldsProblem(simdjson::dom::object obj,
                                 std::initializer_list<std::string_view> allowed,
                                 const std::string& what) {
  std::vector<std::string_view> seen;
  for (const auto field : obj) {
    const std::string_view key = field.key;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return what + " has an unknown key '" + std::string(key.substr(0, 64)) + "'";
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return what + " gives '" + std::string(key) + "' twice";
    seen.push_back(key);
  }
  return "";
}

}  // namespace dpuguard::attest
