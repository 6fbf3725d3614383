// AFL++ driver: persistent mode with shared-memory test cases (FUZZING.md: ~10x the
// fork-server speed). Built only with afl-clang-fast++, which defines the __AFL_* macros.
// Outside afl-fuzz it runs each file named on the command line once (for afl-tmin/afl-cmin
// and for reproducing a crash by hand).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz/common/fuzz_target.h"

__AFL_FUZZ_INIT();

int main(int argc, char** argv) {
  if (argc > 1) {
    for (int i = 1; i < argc; ++i) {
      std::ifstream in(argv[i], std::ios::binary);
      const std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(data.data(), data.size());
    }
    return 0;
  }
#ifdef __AFL_HAVE_MANUAL_CONTROL
  __AFL_INIT();
#endif
  const unsigned char* buf = __AFL_FUZZ_TESTCASE_BUF;  // after __AFL_INIT, before the loop
  while (__AFL_LOOP(100000)) {
    const int len = __AFL_FUZZ_TESTCASE_LEN;
    // A copy, so reads past the end are caught by ASan like with libFuzzer.
    std::vector<uint8_t> data(buf, buf + len);
    LLVMFuzzerTestOneInput(data.data(), data.size());
  }
  return 0;
}
