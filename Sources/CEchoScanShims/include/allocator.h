#ifndef ECHOSCAN_ALLOCATOR_H
#define ECHOSCAN_ALLOCATOR_H

#include <stddef.h>
#include <stdlib.h> // defines __GLIBC__ on glibc
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// Keeps up to `bytes` of freed memory in the process instead of handing it back to the kernel
// (glibc's heap trimming, and its mmap for each large block); blocks of `bytes` or more are
// still mapped on their own. No-op elsewhere.
static inline void echoscan_keep_freed_memory(size_t bytes) {
#if defined(__GLIBC__)
    mallopt(M_TRIM_THRESHOLD, (int)bytes);
    mallopt(M_MMAP_THRESHOLD, (int)bytes);
#else
    (void)bytes;
#endif
}

#endif
