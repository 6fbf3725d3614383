// The usual reason phrase of an HTTP status code (RFC 9110 §15), for status lines dpuguard
// writes itself: local replies, the admin server, responses rebuilt from the host channel.
#pragma once

#include <string_view>

namespace dpuguard::http1 {

// "Bad Request" for 400; "" for a status without a usual phrase (RFC 9112 §4 allows an
// empty one, and clients ignore it).
std::string_view reasonPhrase(int status);

}  // namespace dpuguard::http1
