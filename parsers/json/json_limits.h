// Limits of the JSON views in parsers/json/, in one place. Bodies come from clients and
// upstreams: every bound below is what a hostile one could otherwise make us spend.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dpuguard::json {

// Bytes simdjson may read past the end of a document (SIMDJSON_PADDING), asserted in the .cc.
inline constexpr size_t kJsonPadding = 64;
// Nesting deeper than this is refused (OpenAI request bodies need 4: body, messages, parts).
inline constexpr size_t kMaxDepth = 32;
inline constexpr size_t kMaxModelBytes = 256;
inline constexpr uint64_t kMaxTokensLimit = 1u << 24;  // 16 M: beyond any context window
inline constexpr uint32_t kMaxChoices = 128;            // "n"
// Approximate bytes per token, for budgets estimated before usage is known.
inline constexpr uint64_t kBytesPerToken = 4;

}  // namespace dpuguard::json
