// The shims are static inline in the headers; SwiftPM builds a C target from at least one file.
#include "CEchoScanShims.h"
