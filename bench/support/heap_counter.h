// HeapCounter: counts every heap allocation in the process (malloc, calloc, realloc,
// aligned_alloc, posix_memalign, memalign; operator new goes through malloc). Linking
// heap_counter.cc into a benchmark interposes glibc's allocator entry points; never link it
// into a sanitizer build (ASan owns those symbols). A thread that is not under test (a load
// client, a test upstream) can set itself apart: its allocations are counted separately, so
// heapAllocations() - heapAllocationsApart() is what the code under test allocated, and
// heapAllocationsByOpenSsl() how much of that OpenSSL made (malloc called from libssl or
// libcrypto: every OpenSSL allocation goes through OPENSSL_malloc there).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dpuguard::bench {

// Allocations made by any thread since the process started.
uint64_t heapAllocations();
// The calling thread's allocations from now on also count in heapAllocationsApart().
void setThisThreadApart();
uint64_t heapAllocationsApart();
// Of the allocations not apart, those OpenSSL made (0 if it is not loaded).
uint64_t heapAllocationsByOpenSsl();
// While on, every allocation by a thread not set apart prints its size and a backtrace to
// stderr (at most `limit` of them): where the allocations of a workload come from.
void traceAllocations(bool on, int limit = 16);

}  // namespace dpuguard::bench
