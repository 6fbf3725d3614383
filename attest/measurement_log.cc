// MeasurementLog: entries, canonical encoding, composite.
#include "attest/measurement_log.h"

#include <climits>
#include <cstdlib>

#include "attest/digest.h"

namespace dpuguard::attest {
namespace {

bool plainPathByte(unsigned char b) {
  return b >= '!' && b <= '~' && b != '%' && b != '"' && b != '\\';
}

bool isComponent(std::string_view c) {
  if (c.empty() || c.size() > MeasurementLog::kMaxComponentLength) return false;
  for (const char ch : c) {
    if (!((ch >= 'a' && ch <= 'z') || ch == '_')) return false;
  }
  return true;
}

// An upper-case hex digit's value, or -1.
int hexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string encodePath(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : raw) {
    const auto b = static_cast<unsigned char>(c);
    if (plainPathByte(b)) {
      out += c;
    } else {
      out += '%';
      out += kDigits[b >> 4];
      out += kDigits[b & 15];
    }
  }
  return out;
}

bool isEncodedPath(std::string_view path) {
  if (path.empty() || path.size() > MeasurementLog::kMaxPathLength) return false;
  for (size_t i = 0; i < path.size(); ++i) {
    const auto b = static_cast<unsigned char>(path[i]);
    if (b == '%') {
      // Exactly what encodePath writes: two upper-case hex digits of a byte it would escape.
      if (i + 2 >= path.size()) return false;
      const int hi = hexDigitValue(path[i + 1]);
      const int lo = hexDigitValue(path[i + 2]);
      if (hi < 0 || lo < 0) return false;
      const int v = hi * 16 + lo;
      if (plainPathByte(static_cast<unsigned char>(v))) return false;
      i += 2;
    } else if (!plainPathByte(b)) {
      return false;
    }
  }
  return true;
}

std::string absolutePath(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) != nullptr ? std::string(buf) : path;
}

bool MeasurementLog::add(std::string_view component, std::string_view raw_path,
                         std::string_view sha256) {
  return addEncoded(component, encodePath(absolutePath(std::string(raw_path))), sha256);
}

bool MeasurementLog::addEncoded(std::string_view component, std::string_view path,
                                std::string_view sha256) {
  if (entries_.size() >= kMaxEntries || !isComponent(component) || !isEncodedPath(path) ||
      !isSha256Hex(sha256)) {
    return false;
  }
  entries_.push_back({std::string(component), std::string(path), std::string(sha256)});
  return true;
}

std::string MeasurementLog::canonical() const {
  std::string out;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Measurement& m = entries_[i];
    out += std::to_string(i) + " " + m.component + " " + m.sha256 + " " + m.path + "\n";
  }
  return out;
}

std::string MeasurementLog::composite() const {
  return sha256Hex(canonical());
}

std::string MeasurementLog::id() const {
  return composite().substr(0, kIdLength);
}

std::string MeasurementLog::json() const {
  std::string out = "{\"entries\":[";
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Measurement& m = entries_[i];
    out += std::string(i ? "," : "") + "{\"index\":" + std::to_string(i) + ",\"component\":\"" +
           m.component + "\",\"path\":\"" + m.path + "\",\"sha256\":\"" + m.sha256 + "\"}";
  }
  const std::string c = composite();
  return out + "],\"composite\":\"" + c + "\",\"id\":\"" + c.substr(0, kIdLength) + "\"}";
}

std::string MeasurementLog::text() const {
  std::string out;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Measurement& m = entries_[i];
    out += std::to_string(i) + "  " + m.component + "  " + m.sha256 + "  " + m.path + "\n";
  }
  const std::string c = composite();
  return out + "composite  " + c + "\nmeasurement id  " + c.substr(0, kIdLength) + "\n";
}

}  // namespace dpuguard::attest
