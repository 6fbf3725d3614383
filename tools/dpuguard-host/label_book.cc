#include "tools/dpuguard-host/label_book.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "shm/message_codec.h"

namespace dpuguard::host {

std::optional<LabelBook::Labels> LabelBook::read(std::string* why) const {
  std::ifstream in(path_);
  if (!in) {
    *why = path_ + ": cannot open";
    return std::nullopt;
  }
  Labels out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = path_ + ":" + std::to_string(number) + ": ";
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string cidr, identity, extra;
    if (!(words >> cidr)) continue;
    if (!(words >> identity) || (words >> extra)) {
      *why = where + "expected 'CIDR IDENTITY'";
      return std::nullopt;
    }
    // The DPU takes a bad message for garbage and drops the channel: check what it checks.
    if (identity.size() > shm::kMaxIdentityBytes ||
        !std::all_of(identity.begin(), identity.end(),
                     [](char ch) { return ch > 0x20 && ch < 0x7f; })) {
      *why = where + "an identity is 1-" + std::to_string(shm::kMaxIdentityBytes) +
             " bytes of printable ASCII";
      return std::nullopt;
    }
    Network n;
    const size_t slash = cidr.find('/');
    const std::string host = cidr.substr(0, slash);
    if (inet_pton(AF_INET, host.c_str(), n.addr.data()) == 1)
      n.family = 4;
    else if (inet_pton(AF_INET6, host.c_str(), n.addr.data()) == 1)
      n.family = 6;
    const unsigned max_bits = n.family == 4 ? 32 : 128;
    unsigned bits = max_bits;
    if (n.family != 0 && slash != std::string::npos) {
      const char* b = cidr.c_str() + slash + 1;
      const char* e = cidr.c_str() + cidr.size();
      auto [end, ec] = std::from_chars(b, e, bits);
      if (b == e || ec != std::errc() || end != e) bits = max_bits + 1;
    }
    bool host_bits = false;
    for (unsigned i = bits; i < max_bits; ++i)
      host_bits = host_bits || ((n.addr[i / 8] >> (7 - i % 8)) & 1);
    if (n.family == 0 || bits > max_bits || host_bits) {
      *why = where + "'" + cidr +
             "' is not a network (an address, or ADDRESS/BITS with no host bits set)";
      return std::nullopt;
    }
    n.bits = static_cast<uint8_t>(bits);
    if (!out.emplace(n, identity).second) {
      *why = where + cidr + " is labelled twice";
      return std::nullopt;
    }
  }
  return out;
}

bool LabelBook::reload() {
  std::string why;
  std::optional<Labels> next = read(&why);
  if (!next) {
    std::fprintf(stderr, "dpuguard-host: labels not changed: %s\n", why.c_str());
    return false;
  }
  struct Change {
    Network network;
    std::string identity;
    bool withdraw;
  };
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Change> changes;  // withdrawals first: a relabel is a withdrawal and a label
  for (const auto& [n, identity] : labels_) {
    if (auto it = next->find(n); it == next->end() || it->second != identity)
      changes.push_back({n, identity, true});
  }
  for (const auto& [n, identity] : *next) {
    if (auto it = labels_.find(n); it == labels_.end() || it->second != identity)
      changes.push_back({n, identity, false});
  }
  for (shm::HostChannel* c : channels_) {
    for (const Change& ch : changes) send(c, ch.network, ch.identity, ch.withdraw);
  }
  labels_ = std::move(*next);
  std::fprintf(stderr, "dpuguard-host: %zu labels from %s (%zu messages to each of %zu channels)\n",
               labels_.size(), path_.c_str(), changes.size(), channels_.size());
  return true;
}

void LabelBook::join(shm::HostChannel* c) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [n, identity] : labels_) send(c, n, identity, false);
  channels_.push_back(c);
}

void LabelBook::leave(shm::HostChannel* c) {
  std::lock_guard<std::mutex> lock(mutex_);
  channels_.remove(c);
}

size_t LabelBook::size() {
  std::lock_guard<std::mutex> lock(mutex_);
  return labels_.size();
}

void LabelBook::send(shm::HostChannel* c, const Network& n, const std::string& identity,
                     bool withdraw) {
  shm::IdentityLabelPrefix p{};
  p.family = n.family;
  p.prefix_len = n.bits;
  p.flags = withdraw ? shm::kLabelWithdraw : 0;
  std::memcpy(p.addr, n.addr.data(), n.family == 4 ? 4 : 16);
  std::byte buf[sizeof p + shm::kMaxIdentityBytes];
  const size_t len = shm::encodeIdentityLabel(buf, p, identity);
  c->post(shm::MessageSchema::kIdentityLabel, std::span<const std::byte>(buf, len));
}

}  // namespace dpuguard::host
