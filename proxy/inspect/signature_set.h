// SignatureSet: the DPI rules of one config snapshot, compiled once with Vectorscan
// (Hyperscan API): one block-mode database per head field (path, query, header values), one
// stream-mode database for request bodies, so a pattern split across body chunks still
// matches, one block-mode database for prompts (an inference request's decoded strings,
// scanned once the body is whole), and one stream-mode database for completions (the text a
// model generates, CompletionScan), compiled only when a rule reads it. Immutable and shared
// by the workers; each worker brings its own SignatureScratch and each exchange its own
// BodyScan / CompletionScan.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/config/config_error.h"

struct hs_database;
struct hs_scratch;
struct hs_stream;

namespace dpuguard::proxy::inspect {

// kBody: the raw bytes of a request body on routes without inference validation. kPrompt: on
// inference routes, the body's strings with JSON escapes decoded (what the model reads).
// kCompletion: the text of an answer, decoded (what the model wrote; CompletionScan).
enum class Where : uint8_t { kPath, kQuery, kHeader, kBody, kPrompt, kCompletion };
inline constexpr size_t kWhereCount = 6;

enum class SignatureAction : uint8_t { kBlock, kAlert };

struct Signature {
  std::string id;
  std::string pattern;  // PCRE-subset regex (Vectorscan)
  uint8_t where = 0;    // bit (1 << Where)
  SignatureAction action = SignatureAction::kBlock;
  std::string severity;  // low, medium, high, critical
  bool caseless = true;
  std::string file;  // where it was defined, for errors and /config
  int line = 0;
  int column = 0;
  int route = -1;  // a route's canary (completion only): the index of that route; -1 any
};

// Up to kMaxMatches distinct rule ids that matched one exchange, first block first.
struct Matches {
  static constexpr size_t kMaxMatches = 8;
  std::array<uint32_t, kMaxMatches> ids{};
  size_t count = 0;
  int block = -1;  // index into the set's signatures of the first blocking match, or -1
  void add(uint32_t id, bool blocks);
  void clear() { count = 0, block = -1; }
};

class SignatureSet;

// Per-thread Vectorscan scratch, grown to fit every set the thread has scanned with.
class SignatureScratch {
 public:
  ~SignatureScratch();
  hs_scratch* forSet(const SignatureSet& set);

 private:
  hs_scratch* scratch_ = nullptr;
  const SignatureSet* fitted_ = nullptr;
};

class SignatureSet {
 public:
  // Compiles `sigs`; on failure returns null with `error` at the failing rule's position.
  static std::shared_ptr<const SignatureSet> compile(std::vector<Signature> sigs,
                                                     ConfigError* error);
  ~SignatureSet();

  const std::vector<Signature>& signatures() const { return sigs_; }
  bool scans(Where w) const { return dbs_[static_cast<size_t>(w)] != nullptr; }
  // Block-mode scan of one head field or a prompt; matches are added to `m`.
  void scan(Where w, std::string_view data, hs_scratch* scratch, Matches& m) const;

  // Whether answers on route `route` (index in Config::routes) have completion rules to meet:
  // one for every route, or a canary of that route.
  bool scansCompletion(int route) const;

  hs_database* bodyDatabase() const { return dbs_[static_cast<size_t>(Where::kBody)]; }
  hs_database* database(Where w) const { return dbs_[static_cast<size_t>(w)]; }
  // Unique per compiled set in this process: a scan that keeps streams open between exchanges
  // knows them by it, not by the set's address (a later snapshot's set may be allocated where
  // a freed one was, and its streams must not be reset against the new database).
  uint64_t serial() const { return serial_; }

 private:
  SignatureSet() = default;
  std::vector<Signature> sigs_;
  std::array<hs_database*, kWhereCount> dbs_{};
  std::array<std::vector<uint32_t>, kWhereCount> ids_;  // database-local id -> index in sigs_
  uint64_t serial_ = 0;
  bool completion_any_route_ = false;
  std::vector<int> canary_routes_;  // sorted, unique
  friend class BodyScan;
  friend class CompletionScan;
  friend class SignatureScratch;
};

// A streaming scan of one request body across its chunks. Reused by a session: the stream is
// opened once per set and reset per body (no allocation per request).
class BodyScan {
 public:
  ~BodyScan();
  // Starts a new body for `set` (null: nothing to scan).
  void start(const SignatureSet* set, hs_scratch* scratch);
  // Scans the next chunk; true if a blocking rule has matched (so far).
  bool feed(std::string_view data, Matches& m);
  // The body ended: flushes end-anchored matches.
  bool finish(Matches& m);
  bool active() const { return stream_ != nullptr && set_ != nullptr; }

 private:
  const SignatureSet* set_ = nullptr;
  uint64_t opened_for_ = 0;  // serial() of the set stream_ belongs to
  hs_stream* stream_ = nullptr;
  hs_scratch* scratch_ = nullptr;
};

}  // namespace dpuguard::proxy::inspect
