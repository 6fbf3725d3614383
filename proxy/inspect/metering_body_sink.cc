// MeteringBodySink: event-boundary forwarding and the whole-answer copy.
#include "proxy/inspect/metering_body_sink.h"

#include "parsers/json/json_limits.h"

namespace dpuguard::proxy::inspect {

void MeteringBodySink::start(Mode mode, http1::BodySink* next, json::CompletionChunkParser* parser, size_t max_copy) {
  mode_ = mode;
  next_ = next;
  parser_ = parser;
  max_copy_ = max_copy;
  lost_ = false;
  held_.clear();
  copy_.clear();
  events_.reset();
}

void MeteringBodySink::reset() {
  start(Mode::kOff, nullptr, nullptr, 0);
  if (copy_.capacity() > 64 * 1024) std::string().swap(copy_);
}

void MeteringBodySink::onBodyData(std::string_view data) {
  if (mode_ == Mode::kEventStream && !lost_) return followEvents(data);
  if (meter_.cut()) return;
  if (mode_ == Mode::kWholeAnswer && !lost_) {
    if (copy_.size() + data.size() > max_copy_) {
      lost_ = true;  // too large to read for usage: the reservation's estimate stands
      std::string().swap(copy_);
    } else {
      copy_.append(data);
    }
  }
  next_->onBodyData(data);
}

void MeteringBodySink::followEvents(std::string_view data) {
  while (!data.empty() && !meter_.cut()) {
    const sse::SseResult r = events_.feed(data);
    const std::string_view piece = data.substr(0, r.consumed);
    data.remove_prefix(r.consumed);
    if (r.status == sse::SseStatus::kError) {
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
    if (!meter_.admitEvent(events_.event().data, *parser_)) {
      held_.clear();  // the event over the allowance never reaches the client
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
  if (mode_ != Mode::kEventStream) next_->onChunkStart(size);
}

void MeteringBodySink::onChunkEnd() {
  if (mode_ != Mode::kEventStream) next_->onChunkEnd();
}

void MeteringBodySink::finish() {
  if (mode_ != Mode::kWholeAnswer || lost_ || copy_.empty()) return;
  const size_t size = copy_.size();
  copy_.resize(size + json::kJsonPadding);  // parse in place
  meter_.onWholeAnswer(std::string_view(copy_.data(), size), copy_.size(), *parser_);
  copy_.resize(size);
}

}  // namespace dpuguard::proxy::inspect
