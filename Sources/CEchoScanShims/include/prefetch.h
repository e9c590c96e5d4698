#ifndef ECHOSCAN_PREFETCH_H
#define ECHOSCAN_PREFETCH_H

// A hint to fetch the cache line at `address`: lets a loop of independent look-ups into a table
// larger than the cache start its misses some iterations early.
static inline void echoscan_prefetch(const void *address) {
    __builtin_prefetch(address);
}

#endif
