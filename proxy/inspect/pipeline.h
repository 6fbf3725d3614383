// Pipeline: the inspection phases of one config snapshot. The session calls a phase with the
// parsed facts and acts on the returned Verdict; the pipeline touches no socket, thread or
// clock, so the later DPDK inline path can call it unchanged.
//
//   onRequestHead    identity (from the client's address) x route x method x path -> policy
//
// Later phases (request body chunk, response head, response body chunk) follow the same
// shape: facts in, verdict out.
#pragma once

#include <memory>
#include <string_view>

#include "proxy/config/config.h"
#include "proxy/inspect/identity_map.h"
#include "proxy/inspect/policy_engine.h"
#include "proxy/inspect/verdict.h"

namespace dpuguard::proxy::inspect {

struct RequestHeadFacts {
  std::string_view identity;
  std::string_view route;
  std::string_view method;
  std::string_view path;   // normalized
  std::string_view query;
};

class Pipeline {
 public:
  explicit Pipeline(const Config& config);

  // Anything to do: identities labelled or a policy on. When false the session skips it all.
  bool active() const { return active_; }
  std::string_view identityOf(const IpAddress& client) const { return identities_.lookup(client); }
  Verdict onRequestHead(const RequestHeadFacts& facts) const;

 private:
  IdentityMap identities_;
  PolicyEngine policy_;
  bool active_;
};

}  // namespace dpuguard::proxy::inspect
