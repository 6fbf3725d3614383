// Form-decoding of a query string for inspection (WHATWG application/x-www-form-urlencoded,
// once): '+' becomes a space and %XX its byte; a '%' not followed by two hex digits is kept
// as it is. Signatures read the query raw and decoded, so `?id=1+UNION%20SELECT` is seen as
// the attacker meant it, while rules for double encodings (%252e) still see the raw form.
//
//   std::string out;  // reuse it: no allocation once it has grown
//   if (uri::decodeQuery("q=a+b%21", out)) scan(out);  // "q=a b!"; false: nothing to decode
//
// The output is never longer than the input. The query is not changed on its way upstream.
#pragma once

#include <string>
#include <string_view>

namespace dpuguard::uri {

// Writes the decoded `query` to `out`; false (out untouched) when it has no '+' and no '%'.
bool decodeQuery(std::string_view query, std::string& out);

}  // namespace dpuguard::uri
