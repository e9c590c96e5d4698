// The module's umbrella header. Listing the headers here (rather than letting SwiftPM take the
// whole folder) means a new header changes this file, so that clang's module cache of an
// existing build notices it.
#include "allocator.h"
#include "ascii_tokens.h"
#include "byte_classes.h"
#include "file_system_sync.h"
#include "prefetch.h"
#include "style_byte_classes.h"
#include "style_weights.h"
