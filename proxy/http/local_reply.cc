// Local replies.
#include "proxy/http/local_reply.h"

#include "parsers/http1/reason_phrase.h"

namespace dpuguard::proxy {

int writeLocalReply(Outcome outcome, bool close, std::string& out, const ReplyDetail& detail) {
  const OutcomeInfo& row = outcomeInfo(outcome);
  int status = replyStatus(outcome, detail.status);
  std::string_view message = !detail.message.empty() ? detail.message : row.reason;
  if (status == 0) {
    status = 500;
    message = "internal error";
  }
  std::string body = "{\"error\":{\"message\":\"";
  for (char c : message) {  // messages are ours, but keep the JSON valid whatever they hold
    if (c == '"' || c == '\\') body.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) body.push_back(c);
  }
  body += "\",\"type\":\"";
  body += detail.type;
  body += "\",\"param\":";
  body += detail.param.empty() ? std::string_view("null") : std::string_view();
  if (!detail.param.empty()) body.append("\"").append(detail.param).append("\"");
  body += ",\"code\":\"";
  body += detail.code.empty() ? row.name : detail.code;
  body += "\"}}\n";
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += http1::reasonPhrase(status);
  out += "\r\nContent-Type: application/json\r\n";
  if (detail.retry_after_s != 0)
    out.append("Retry-After: ").append(std::to_string(detail.retry_after_s)).append("\r\n");
  if (!detail.www_authenticate.empty())
    out.append("WWW-Authenticate: ").append(detail.www_authenticate).append("\r\n");
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n";
  out += body;
  return status;
}

}  // namespace dpuguard::proxy
