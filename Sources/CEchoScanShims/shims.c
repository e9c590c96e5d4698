// The shims are static inline in the headers; SwiftPM builds a C target from at least one file.
#include "byte_classes.h"
#include "file_system_sync.h"
