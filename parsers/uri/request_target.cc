// parseRequestTarget: origin-form, absolute-form (http/https), authority-form, asterisk-form.
#include "parsers/uri/request_target.h"

namespace dpuguard::uri {
namespace {

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != prefix[i]) return false;
  }
  return true;
}

void splitPathQuery(std::string_view rest, RequestTarget& t) {
  const size_t q = rest.find('?');
  t.path = rest.substr(0, q);
  t.query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
}

}  // namespace

RequestTarget parseRequestTarget(std::string_view target) {
  RequestTarget t;
  if (target.empty() || target.find('#') != std::string_view::npos) return t;
  if (target == "*") {
    t.form = RequestTarget::Form::kAsterisk;
    return t;
  }
  if (target.front() == '/') {
    t.form = RequestTarget::Form::kOrigin;
    splitPathQuery(target, t);
    return t;
  }
  size_t scheme_len = 0;
  if (startsWithIgnoreCase(target, "http://")) scheme_len = 7;
  else if (startsWithIgnoreCase(target, "https://")) scheme_len = 8;
  if (scheme_len != 0) {
    std::string_view rest = target.substr(scheme_len);
    const size_t slash = rest.find_first_of("/?");
    t.authority = rest.substr(0, slash);
    if (t.authority.empty() || t.authority.find('@') != std::string_view::npos) return t;
    t.form = RequestTarget::Form::kAbsolute;
    if (slash == std::string_view::npos) {
      t.path = "/";
    } else if (rest[slash] == '?') {
      t.path = "/";
      t.query = rest.substr(slash + 1);
    } else {
      splitPathQuery(rest.substr(slash), t);
    }
    return t;
  }
  // authority-form (CONNECT only): host:port, nothing else.
  if (target.find_first_of("/?@") == std::string_view::npos && target.find(':') != std::string_view::npos) {
    t.form = RequestTarget::Form::kAuthority;
    t.authority = target;
  }
  return t;
}

std::string_view hostWithoutPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  const size_t colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

}  // namespace dpuguard::uri
