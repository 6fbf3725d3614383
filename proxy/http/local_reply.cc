// Local replies.
#include "proxy/http/local_reply.h"

namespace dpuguard::proxy {

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";  // a status without a usual phrase gets an empty one (RFC 9112 §4)
  }
}

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
  out += reasonPhrase(status);
  out += "\r\nContent-Type: application/json\r\n";
  if (detail.retry_after_s != 0) out.append("Retry-After: ").append(std::to_string(detail.retry_after_s)).append("\r\n");
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n";
  out += body;
  return status;
}

}  // namespace dpuguard::proxy
