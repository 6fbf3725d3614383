// Replays files through a fuzz target without a fuzzing engine (works with GCC), so ctest
// runs every seed, corpus and regression input in every build, sanitized builds included.
//   replay_TARGET FILE_OR_DIR...             run each input; an invariant break aborts
//   replay_TARGET --describe FILE_OR_DIR...  print "path<TAB>outcome" per input (reports)
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/common/fuzz_target.h"

namespace {

bool readFile(const std::string& path, std::vector<uint8_t>& data) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// Files named on the command line, directories expanded (sorted, dot files skipped).
std::vector<std::string> collect(int argc, char** argv, int first) {
  std::vector<std::string> files;
  for (int i = first; i < argc; ++i) {
    struct stat st {};
    if (stat(argv[i], &st) != 0) continue;  // an empty regress/ may not exist in git
    if (!S_ISDIR(st.st_mode)) {
      files.emplace_back(argv[i]);
      continue;
    }
    std::vector<std::string> entries;
    if (DIR* d = opendir(argv[i])) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') entries.push_back(std::string(argv[i]) + "/" + e->d_name);
      }
      closedir(d);
    }
    std::sort(entries.begin(), entries.end());
    files.insert(files.end(), entries.begin(), entries.end());
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  const bool describe = argc > 1 && std::string(argv[1]) == "--describe";
  const std::vector<std::string> files = collect(argc, argv, describe ? 2 : 1);
  int errors = 0;
  std::vector<uint8_t> data;
  for (const std::string& path : files) {
    if (!readFile(path, data)) {
      std::fprintf(stderr, "replay: cannot open %s\n", path.c_str());
      ++errors;
      continue;
    }
    if (describe) {
      const std::string line = dpuguard::fuzz::describeInput(dpuguard::fuzz::asText(data.data(), data.size()));
      std::printf("%s\t%s\n", path.c_str(), line.c_str());
    } else {
      LLVMFuzzerTestOneInput(data.data(), data.size());
    }
  }
  if (!describe) std::printf("replayed %zu inputs\n", files.size());
  return errors == 0 && !files.empty() ? 0 : 1;
}
