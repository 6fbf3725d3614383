// EventStreamParser: line splitting (CRLF, LF or CR), field parsing, event dispatch.
#include "parsers/sse/event_stream_parser.h"

#include <algorithm>

namespace dpuguard::sse {

namespace {
constexpr std::string_view kBom = "\xEF\xBB\xBF";
}

void EventStreamParser::reset() {
  line_.clear();
  data_.clear();
  type_.clear();
  event_ = {};
  after_cr_ = started_ = has_data_ = failed_ = pending_clear_ = false;
  bom_matched_ = 0;
}

SseResult EventStreamParser::feed(std::string_view in) {
  if (failed_) return {SseStatus::kError, 0};
  size_t i = 0;
  if (pending_clear_) {  // the previous event's views are no longer needed
    data_.clear();
    type_.clear();
    event_ = {};
    pending_clear_ = false;
  }
  // A leading UTF-8 BOM is skipped (WHATWG §9.2.6), even when split across feeds.
  while (!started_ && i < in.size()) {
    if (in[i] == kBom[bom_matched_]) {
      ++i;
      started_ = ++bom_matched_ == kBom.size();
    } else {
      started_ = true;
      line_.append(kBom.substr(0, bom_matched_));  // not a BOM: those bytes begin the first line
    }
  }
  while (i < in.size()) {
    const char c = in[i];
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') {
        ++i;
        continue;
      }
    }
    if (c == '\r' || c == '\n') {
      ++i;
      after_cr_ = c == '\r';
      if (endLine()) return {SseStatus::kEvent, i};
      if (failed_) return {SseStatus::kError, i};
      continue;
    }
    // The rest of this line, at once.
    const size_t end = std::min(in.find_first_of("\r\n", i), in.size());
    if (line_.size() + (end - i) + data_.size() > max_event_bytes_) {
      failed_ = true;
      return {SseStatus::kError, i};
    }
    line_.append(in.substr(i, end - i));
    i = end;
  }
  return {SseStatus::kNeedMore, i};
}

bool EventStreamParser::endLine() {
  const std::string_view line = line_;
  if (line.empty()) {
    // Dispatch (WHATWG: an event without data is not dispatched, its fields are dropped).
    const bool dispatch = has_data_;
    if (dispatch) {
      if (!data_.empty() && data_.back() == '\n') data_.pop_back();
      event_.data = data_;
      event_.type = type_;
    }
    // The views above stay valid until the next feed: clear lazily there.
    has_data_ = false;
    pending_clear_ = dispatch;
    if (!dispatch) {
      data_.clear();
      type_.clear();
    }
    return dispatch;
  }
  if (line.front() != ':') {  // ':' starts a comment
    const size_t colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") {
      if (data_.size() + value.size() + 1 > max_event_bytes_) {
        failed_ = true;
        line_.clear();
        return false;
      }
      data_.append(value).push_back('\n');
      has_data_ = true;
    } else if (field == "event") {
      type_.assign(value.substr(0, std::min<size_t>(value.size(), 64)));
    }
    // "id" and "retry" are the client's business; unknown fields are ignored (WHATWG).
  }
  line_.clear();
  return false;
}

}  // namespace dpuguard::sse
