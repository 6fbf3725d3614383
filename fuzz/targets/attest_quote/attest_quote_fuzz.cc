// Fuzz target: what dpuguard-host reads from a DPU it does not trust yet, the quote
// (attest/quote.h), and the expectation file an operator hand-edits (attest/expectation.h).
// Invariants:
//   - a quote parseQuote accepts has a log whose composite and id are the ones it claims, and
//     writing it back (quoteJson) parses again to the same signed bytes and signature: one
//     meaning per accepted quote, so what the signature covers is what the verifier checked;
//   - verifying it with a key that never signed it fails (no path skips the signature);
//   - an accepted expectation checks the accepted log (or a fixed one) without fault;
//   - nothing reads outside the input (ASan), at most kMaxQuoteBytes are looked at.
#include <cstdlib>
#include <string>

#include "attest/digest.h"
#include "attest/expectation.h"
#include "attest/quote.h"
#include "fuzz/common/fuzz_target.h"

namespace {

using namespace dpuguard::attest;

// An Ed25519 public key no quote in any corpus was signed with (RFC 8032 test 1's).
constexpr const char* kStrangerKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
    "-----END PUBLIC KEY-----\n";

void fail(const char* what) {
  __builtin_trap();
  (void)what;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = dpuguard::fuzz::asText(data, size);
  SignedQuote q;
  std::string why;
  const bool quote_ok = parseQuote(input, &q, &why);
  if (quote_ok) {
    if (q.quote.log.composite() != sha256Hex(q.quote.log.canonical())) fail("composite");
    SignedQuote again;
    std::string why2;
    if (!parseQuote(quoteJson(q), &again, &why2)) fail("round trip refused");
    if (again.quote.signedBytes() != q.quote.signedBytes() || again.signature != q.signature)
      fail("round trip changed the quote");
    Expectation any;
    if (!Expectation::parse(Expectation::fromLog(q.quote.log), &any, &why2)) fail("fromLog");
    if (!any.check(q.quote.log).empty()) fail("its own expectation refuses the log");
    if (verifyQuote(q, q.quote.nonce, kStrangerKey, any).empty()) fail("a stranger's key verified");
  } else if (why.empty()) {
    fail("refused without a reason");
  }
  Expectation e;
  if (Expectation::parse(input, &e, &why)) {
    MeasurementLog fixed;
    fixed.add("executable", "/usr/sbin/dpuguard", sha256Hex("x"));
    (void)e.check(quote_ok ? q.quote.log : fixed);
  }
  return 0;
}

namespace dpuguard::fuzz {

std::string describeInput(std::string_view input) {
  attest::SignedQuote q;
  std::string why;
  if (attest::parseQuote(input, &q, &why))
    return "accepted:quote entries=" + std::to_string(q.quote.log.entries().size());
  attest::Expectation e;
  std::string ewhy;
  if (attest::Expectation::parse(input, &e, &ewhy)) return "accepted:expectation";
  std::string reason = why.substr(0, why.find(':'));
  for (char& c : reason) c = c == ' ' || c == '\t' ? '-' : c;
  return "rejected:" + reason.substr(0, 60);
}

}  // namespace dpuguard::fuzz
