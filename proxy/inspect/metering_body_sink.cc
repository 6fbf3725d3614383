// MeteringBodySink: event-boundary forwarding, the whole-answer copy and the held answer.
#include "proxy/inspect/metering_body_sink.h"

#include "parsers/json/json_limits.h"

namespace dpuguard::proxy::inspect {

void MeteringBodySink::start(Mode mode, http1::BodySink* next, json::CompletionChunkParser* parser,
                             size_t max_copy, CompletionScan* guard, Matches* matches) {
  mode_ = mode;
  next_ = next;
  parser_ = parser;
  guard_ = guard != nullptr && guard->active() ? guard : nullptr;
  matches_ = matches;
  max_copy_ = max_copy;
  lost_ = false;
  stop_ = Stop::kNone;
  held_.clear();
  copy_.clear();
  copy_size_ = 0;
  events_.reset();
}

void MeteringBodySink::reset() {
  start(Mode::kOff, nullptr, nullptr, 0);
  if (copy_.capacity() > 64 * 1024) std::string().swap(copy_);
}

void MeteringBodySink::keepCopy(std::string_view data) {
  if (lost_) return;
  if (copy_.size() + data.size() > max_copy_) {
    lost_ = true;  // too large to read for usage: the reservation's estimate stands
    std::string().swap(copy_);
    // A held answer too large to scan is not let through unread: the guard fails closed.
    if (mode_ == Mode::kHeldAnswer) stop_ = Stop::kGuardrail;
    return;
  }
  copy_.append(data);
}

void MeteringBodySink::onBodyData(std::string_view data) {
  if (stop_ != Stop::kNone) return;
  if (mode_ == Mode::kEventStream && !lost_) return followEvents(data);
  if (mode_ == Mode::kHeldAnswer) return keepCopy(data);
  if (mode_ == Mode::kWholeAnswer) keepCopy(data);
  next_->onBodyData(data);
}

bool MeteringBodySink::admit(std::string_view data) {
  if (guard_ == nullptr) {
    if (meter_.admitEvent(data, *parser_)) return true;
    stop_ = Stop::kBudget;
    return false;
  }
  // One parse for the meter and the guard.
  json::CompletionChunk chunk;
  const bool parsed =
      !data.empty() && data.front() == '{' && parser_->parse(data, data.size(), chunk, &text_);
  if (!meter_.admitChunk(parsed, chunk)) {
    stop_ = Stop::kBudget;
    return false;
  }
  if (guard_->onEventText(data, parsed ? &text_ : nullptr, *matches_) == EventVerdict::kBlock) {
    stop_ = Stop::kGuardrail;
    return false;
  }
  return true;
}

void MeteringBodySink::followEvents(std::string_view data) {
  while (!data.empty() && stop_ == Stop::kNone) {
    const sse::SseResult r = events_.feed(data);
    const std::string_view piece = data.substr(0, r.consumed);
    data.remove_prefix(r.consumed);
    if (r.status == sse::SseStatus::kError) {
      if (guard_ != nullptr) {  // text the guard cannot read is not let through
        held_.clear();
        stop_ = Stop::kGuardrail;
        return;
      }
      // An event too large to hold: forward what was held and let the rest pass uncounted.
      lost_ = true;
      held_.append(piece).append(data);
      next_->onBodyData(held_);
      held_.clear();
      return;
    }
    if (r.status == sse::SseStatus::kNeedMore) {
      held_.append(piece);
      return;
    }
    if (!admit(events_.event().data)) {
      held_.clear();  // the event that was refused never reaches the client
      return;
    }
    if (held_.empty()) {
      next_->onBodyData(piece);
    } else {
      held_.append(piece);
      next_->onBodyData(held_);
      held_.clear();
    }
  }
}

void MeteringBodySink::onChunkStart(uint64_t size) {
  if (mode_ == Mode::kWholeAnswer) next_->onChunkStart(size);
}

void MeteringBodySink::onChunkEnd() {
  if (mode_ == Mode::kWholeAnswer) next_->onChunkEnd();
}

void MeteringBodySink::finish() {
  if (mode_ == Mode::kEventStream) {
    // Every event has gone by now: an end-anchored match can only be reported (an alert).
    if (guard_ != nullptr && stop_ == Stop::kNone) guard_->finish(*matches_);
    return;
  }
  if ((mode_ != Mode::kWholeAnswer && mode_ != Mode::kHeldAnswer) || lost_ || stop_ != Stop::kNone)
    return;
  const size_t size = copy_.size();
  copy_.resize(size + json::kJsonPadding);  // parse in place
  const std::string_view body(copy_.data(), size);
  if (!copy_.empty() && size > 0) meter_.onWholeAnswer(body, copy_.size(), *parser_);
  if (mode_ == Mode::kHeldAnswer && guard_ != nullptr &&
      guard_->scanWhole(body, copy_.size(), *parser_, *matches_)) {
    stop_ = Stop::kGuardrail;
  }
  copy_size_ = size;
}

}  // namespace dpuguard::proxy::inspect
