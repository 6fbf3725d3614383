// LabelBook: the identity labels `dpuguard-host events NAME --labels FILE` hands to dpuguard
// (host_channel.labels): every worker channel gets the whole set when it connects; reload()
// re-reads FILE and sends each channel only the difference, withdrawals first.
//
// FILE: one label per line, "CIDR IDENTITY" ("10.1.2.0/24 spiffe://cluster/ns/a/sa/b"), '#'
// starts a comment. A bad line is reported as FILE:LINE and the set in force stays.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "shm/host/host_channel.h"
#include "shm/messages.h"

namespace dpuguard::host {

class LabelBook {
 public:
  explicit LabelBook(std::string path) : path_(std::move(path)) {}

  // Reads the file; on the first call its labels become the set, later the difference goes to
  // every channel. False (with the reason on stderr) leaves the set as it was.
  bool reload();
  // A channel that came up: it gets the whole set, then every later difference, until leave().
  void join(shm::HostChannel* c);
  void leave(shm::HostChannel* c);
  size_t size();

 private:
  struct Network {
    uint8_t family = 0;
    uint8_t bits = 0;
    std::array<uint8_t, 16> addr{};
    auto operator<=>(const Network&) const = default;
  };
  using Labels = std::map<Network, std::string>;

  std::optional<Labels> read(std::string* why) const;
  static void send(shm::HostChannel* c, const Network& n, const std::string& identity,
                   bool withdraw);

  std::string path_;
  std::mutex mutex_;
  Labels labels_;
  std::list<shm::HostChannel*> channels_;
};

}  // namespace dpuguard::host
