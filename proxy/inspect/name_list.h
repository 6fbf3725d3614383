// Config name lists (identities, routes, models, methods): an empty list means any.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace dpuguard::proxy::inspect {

inline bool anyOrContains(const std::vector<std::string>& list, std::string_view v) {
  return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace dpuguard::proxy::inspect
