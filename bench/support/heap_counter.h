// HeapCounter: counts every heap allocation in the process (malloc, calloc, realloc,
// aligned_alloc, posix_memalign, memalign; operator new goes through malloc). Linking
// heap_counter.cc into a benchmark interposes glibc's allocator entry points; never link it
// into a sanitizer build (ASan owns those symbols).
#pragma once

#include <cstdint>

namespace dpuguard::bench {

// Allocations made by any thread since the process started.
uint64_t heapAllocations();

}  // namespace dpuguard::bench
