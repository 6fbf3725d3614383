// EnumName: one spelling of a config enum value. Each config enum has one table of them,
// declared beside the enum: the loader reads a key with it (readEnum, map_reader.h) and
// /config writes the value back with it (enumName), so the two cannot disagree.
#pragma once

#include <span>
#include <string_view>
#include <type_traits>

namespace dpuguard::proxy {

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

// The name of `value` in `table`, or "" if the table lacks it.
template <typename E>
constexpr std::string_view enumName(std::span<const EnumName<std::type_identity_t<E>>> table,
                                    E value) {
  for (const EnumName<E>& row : table) {
    if (row.value == value) return row.name;
  }
  return "";
}

}  // namespace dpuguard::proxy
