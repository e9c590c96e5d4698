#ifndef ECHOSCAN_STYLE_BYTE_CLASSES_H
#define ECHOSCAN_STYLE_BYTE_CLASSES_H

#include <stddef.h>
#include <stdint.h>

// The classes of bytes the style detector reads between words (see StyleFeatures.swift): spaces,
// line feeds, ASCII punctuation marks, and the rest (letters, digits, non-ASCII bytes). A table
// instead of comparisons.

enum { ECHOSCAN_STYLE_OTHER = 0, ECHOSCAN_STYLE_SPACE = 1, ECHOSCAN_STYLE_NEWLINE = 2, ECHOSCAN_STYLE_MARK = 3 };

static inline uint8_t echoscan_style_class(uint8_t byte) {
    static const uint8_t classes[256] = {
        3,3,3,3,3,3,3,3,3,1,2,3,3,1,3,3, 3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,
        1,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3, 0,0,0,0,0,0,0,0,0,0,3,3,3,3,3,3,
        3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,3,3,3,3,0,
        3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,3,3,3,3,3,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    };
    return classes[byte];
}

#endif
