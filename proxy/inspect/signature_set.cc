#include "proxy/inspect/signature_set.h"

#include <hs/hs.h>

#include <algorithm>
#include <atomic>

namespace dpuguard::proxy::inspect {
namespace {

struct MatchContext {
  const SignatureSet* set;
  const std::vector<uint32_t>* ids;
  Matches* matches;
};

int onMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
            unsigned int /*flags*/, void* ctx) {
  auto* c = static_cast<MatchContext*>(ctx);
  const uint32_t index = (*c->ids)[id];
  c->matches->add(index, c->set->signatures()[index].action == SignatureAction::kBlock);
  return 0;  // keep scanning: every rule that matches is reported
}

}  // namespace

void Matches::add(uint32_t id, bool blocks) {
  for (size_t i = 0; i < count; ++i) {
    if (ids[i] == id) return;
  }
  if (blocks && block < 0) block = static_cast<int>(id);
  if (count < kMaxMatches) ids[count++] = id;
}

SignatureScratch::~SignatureScratch() {
  if (scratch_ != nullptr) hs_free_scratch(scratch_);
}

hs_scratch* SignatureScratch::forSet(const SignatureSet& set) {
  if (fitted_ == &set) return scratch_;
  for (hs_database* db : set.dbs_) {
    if (db != nullptr) hs_alloc_scratch(db, &scratch_);  // grows the one scratch to fit
  }
  fitted_ = &set;
  return scratch_;
}

std::shared_ptr<const SignatureSet> SignatureSet::compile(std::vector<Signature> sigs,
                                                          ConfigError* error) {
  static std::atomic<uint64_t> serials{0};
  std::shared_ptr<SignatureSet> set(new SignatureSet());
  set->serial_ = ++serials;
  set->sigs_ = std::move(sigs);
  for (size_t w = 0; w < kWhereCount; ++w) {
    std::vector<const char*> patterns;
    std::vector<unsigned> flags, ids;
    for (size_t i = 0; i < set->sigs_.size(); ++i) {
      const Signature& s = set->sigs_[i];
      if ((s.where & (1u << w)) == 0) continue;
      patterns.push_back(s.pattern.c_str());
      flags.push_back(HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL | (s.caseless ? HS_FLAG_CASELESS : 0));
      ids.push_back(static_cast<unsigned>(set->ids_[w].size()));
      set->ids_[w].push_back(static_cast<uint32_t>(i));
      if (w == static_cast<size_t>(Where::kCompletion)) {
        if (s.route >= 0) set->canary_routes_.push_back(s.route);
        set->completion_any_route_ = set->completion_any_route_ || s.route < 0;
      }
    }
    if (patterns.empty()) continue;
    hs_compile_error_t* err = nullptr;
    const bool streamed =
        w == static_cast<size_t>(Where::kBody) || w == static_cast<size_t>(Where::kCompletion);
    const unsigned mode = streamed ? HS_MODE_STREAM : HS_MODE_BLOCK;
    if (hs_compile_multi(patterns.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(patterns.size()), mode, nullptr, &set->dbs_[w],
                         &err) != HS_SUCCESS) {
      const Signature* bad = err->expression >= 0
                                 ? &set->sigs_[set->ids_[w][static_cast<size_t>(err->expression)]]
                                 : nullptr;
      *error =
          bad != nullptr
              ? ConfigError{bad->file, bad->line, bad->column,
                            "signature '" + bad->id +
                                "': pattern does not compile: " + err->message}
              : ConfigError{"", 0, 0, std::string("signatures do not compile: ") + err->message};
      hs_free_compile_error(err);
      return nullptr;
    }
  }
  std::sort(set->canary_routes_.begin(), set->canary_routes_.end());
  set->canary_routes_.erase(std::unique(set->canary_routes_.begin(), set->canary_routes_.end()),
                            set->canary_routes_.end());
  return set;
}

bool SignatureSet::scansCompletion(int route) const {
  return completion_any_route_ ||
         std::binary_search(canary_routes_.begin(), canary_routes_.end(), route);
}

SignatureSet::~SignatureSet() {
  for (hs_database* db : dbs_) {
    if (db != nullptr) hs_free_database(db);
  }
}

void SignatureSet::scan(Where w, std::string_view data, hs_scratch* scratch, Matches& m) const {
  hs_database* db = dbs_[static_cast<size_t>(w)];
  if (db == nullptr || data.empty()) return;
  MatchContext ctx{this, &ids_[static_cast<size_t>(w)], &m};
  hs_scan(db, data.data(), static_cast<unsigned>(data.size()), 0, scratch, &onMatch, &ctx);
}

BodyScan::~BodyScan() {
  if (stream_ != nullptr) hs_close_stream(stream_, nullptr, nullptr, nullptr);
}

void BodyScan::start(const SignatureSet* set, hs_scratch* scratch) {
  set_ = set != nullptr && set->bodyDatabase() != nullptr ? set : nullptr;
  scratch_ = scratch;
  if (set_ == nullptr) return;
  if (opened_for_ != set_->serial()) {  // a new snapshot's database: a new stream, once
    if (stream_ != nullptr) hs_close_stream(stream_, nullptr, nullptr, nullptr);  // frees only
    stream_ = nullptr;
    if (hs_open_stream(set_->bodyDatabase(), 0, &stream_) != HS_SUCCESS) stream_ = nullptr;
    opened_for_ = set_->serial();
  } else {
    hs_reset_stream(stream_, 0, nullptr, nullptr,
                    nullptr);  // no callbacks: nothing pending matters
  }
}

bool BodyScan::feed(std::string_view data, Matches& m) {
  if (!active() || data.empty()) return m.block >= 0;
  MatchContext ctx{set_, &set_->ids_[static_cast<size_t>(Where::kBody)], &m};
  hs_scan_stream(stream_, data.data(), static_cast<unsigned>(data.size()), 0, scratch_, &onMatch,
                 &ctx);
  return m.block >= 0;
}

bool BodyScan::finish(Matches& m) {
  if (!active()) return m.block >= 0;
  MatchContext ctx{set_, &set_->ids_[static_cast<size_t>(Where::kBody)], &m};
  hs_reset_stream(stream_, 0, scratch_, &onMatch, &ctx);  // reports end-of-data matches
  return m.block >= 0;
}

}  // namespace dpuguard::proxy::inspect
