// appendJsonEscaped: bytes of any origin (the wire, the host, config files) written as the
// inside of a JSON string, for the flow log, /config, /edges and the inspect report.
#pragma once

#include <string>
#include <string_view>

namespace dpuguard::proxy {

// Appends `s` as the inside of a JSON string: quotes, backslashes, control and non-ASCII
// bytes escaped as \u00XX, so any byte sequence from the wire yields valid ASCII JSON.
void appendJsonEscaped(std::string& out, std::string_view s);

}  // namespace dpuguard::proxy
