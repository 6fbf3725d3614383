#include "bench/support/heap_counter.h"

#include <execinfo.h>
#include <link.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstring>

// glibc's own entry points, which the interposed ones forward to.
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {
std::atomic<uint64_t> g_allocations{0};
std::atomic<uint64_t> g_apart{0};
std::atomic<uint64_t> g_openssl{0};
std::atomic<int> g_trace_left{0};
// libssl's and libcrypto's loaded segments, [lo, hi) each: found once before main (they are
// DT_NEEDED libraries). Both: CRYPTO_malloc tail-calls malloc, so malloc returns straight
// into whichever of the two called OPENSSL_malloc.
struct Range {
  uintptr_t lo = 0, hi = 0;
};
Range g_openssl_ranges[2];

int findOpenSsl(dl_phdr_info* info, size_t, void*) {
  const char* name = info->dlpi_name;
  if (name == nullptr) return 0;
  Range* r = std::strstr(name, "/libssl.so") != nullptr      ? &g_openssl_ranges[0]
             : std::strstr(name, "/libcrypto.so") != nullptr ? &g_openssl_ranges[1]
                                                             : nullptr;
  if (r == nullptr) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    if (r->lo == 0 || lo < r->lo) r->lo = lo;
    if (lo + ph.p_memsz > r->hi) r->hi = lo + ph.p_memsz;
  }
  return 0;
}

__attribute__((constructor)) void locateOpenSsl() {
  dl_iterate_phdr(findOpenSsl, nullptr);
}

bool inOpenSsl(uintptr_t at) {
  for (const Range& r : g_openssl_ranges) {
    if (at >= r.lo && at < r.hi) return true;
  }
  return false;
}
// Static TLS of the executable (initial-exec): reading it never allocates.
thread_local bool t_apart = false;
thread_local bool t_tracing = false;  // backtrace() itself may allocate: no recursion

// `caller`: the allocation function's return address (in OpenSSL, for OpenSSL's).
void count(size_t n, void* caller) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (t_apart) {
    g_apart.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (inOpenSsl(reinterpret_cast<uintptr_t>(caller)))
    g_openssl.fetch_add(1, std::memory_order_relaxed);
  if (g_trace_left.load(std::memory_order_relaxed) <= 0 || t_tracing) return;
  if (g_trace_left.fetch_sub(1, std::memory_order_relaxed) <= 0) return;
  t_tracing = true;
  void* frames[24];
  const int depth = backtrace(frames, 24);
  char line[64];
  const int len = std::snprintf(line, sizeof line, "allocation of %zu bytes:\n", n);
  if (len > 0) (void)!::write(2, line, static_cast<size_t>(len));
  backtrace_symbols_fd(frames, depth, 2);
  t_tracing = false;
}
}  // namespace

uint64_t dpuguard::bench::heapAllocations() {
  return g_allocations.load(std::memory_order_relaxed);
}

uint64_t dpuguard::bench::heapAllocationsApart() {
  return g_apart.load(std::memory_order_relaxed);
}

uint64_t dpuguard::bench::heapAllocationsByOpenSsl() {
  return g_openssl.load(std::memory_order_relaxed);
}

void dpuguard::bench::setThisThreadApart() {
  t_apart = true;
}

void dpuguard::bench::traceAllocations(bool on, int limit) {
  if (on) {  // load libgcc's unwinder now, outside any allocation
    void* frame[1];
    backtrace(frame, 1);
  }
  g_trace_left.store(on ? limit : 0);
}

extern "C" {
void* malloc(size_t n) {
  count(n, __builtin_return_address(0));
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  count(n * size, __builtin_return_address(0));
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  count(n, __builtin_return_address(0));
  return __libc_realloc(p, n);
}
void* aligned_alloc(size_t alignment, size_t n) {
  count(n, __builtin_return_address(0));
  return __libc_memalign(alignment, n);
}
void* memalign(size_t alignment, size_t n) {
  count(n, __builtin_return_address(0));
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return 22;  // EINVAL
  count(n, __builtin_return_address(0));
  void* p = __libc_memalign(alignment, n);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void free(void* p) {
  __libc_free(p);
}
}
