#include "proxy/tls/refusal_log.h"

namespace dpuguard::proxy::tls {

bool RefusalLog::note(int64_t now_ms, const std::string& what) {
  if (last_ms_ != INT64_MIN && now_ms - last_ms_ < interval_ms_) {
    ++left_out_;
    return false;
  }
  if (left_out_ > 0) {
    std::fprintf(out_, "dpuguard: %s (and %llu more refused since the last line)\n", what.c_str(),
                 static_cast<unsigned long long>(left_out_));
  } else {
    std::fprintf(out_, "dpuguard: %s\n", what.c_str());
  }
  std::fflush(out_);
  last_ms_ = now_ms;
  left_out_ = 0;
  return true;
}

}  // namespace dpuguard::proxy::tls
