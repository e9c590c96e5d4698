#ifndef ECHOSCAN_FILE_SYSTEM_SYNC_H
#define ECHOSCAN_FILE_SYSTEM_SYNC_H

#include <unistd.h>

#if defined(__linux__)
// syncfs(2) is a GNU extension: declared here, since <unistd.h> shows it only under _GNU_SOURCE,
// which Swift's Glibc module is not built with.
extern int syncfs(int fd);
/// Syncs the file system that holds the open file `descriptor`; 0 on success, -1 and errno.
static inline int echoscan_syncfs(int descriptor) { return syncfs(descriptor); }
#else
static inline int echoscan_syncfs(int descriptor) { (void)descriptor; sync(); return 0; }
#endif

#endif
