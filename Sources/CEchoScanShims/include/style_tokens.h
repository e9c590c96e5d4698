#ifndef ECHOSCAN_STYLE_TOKENS_H
#define ECHOSCAN_STYLE_TOKENS_H

#include <stddef.h>
#include <stdint.h>

// The style detector's tokens (see StyleFeatures.swift): a word is a run of ASCII letters, digits
// and '_' or of non-ASCII bytes, lowercased; any other ASCII mark is a token of its own, and so
// are the UTF-8 marks U+2013-U+2026 (dashes, curly quotes, bullet, ellipsis). Tokens are hashed
// with 64-bit FNV-1a. In C for the byte loop's sake: a class table instead of comparisons.

enum { ECHOSCAN_STYLE_WORD = 0, ECHOSCAN_STYLE_SPACE = 1, ECHOSCAN_STYLE_NEWLINE = 2, ECHOSCAN_STYLE_MARK = 3, ECHOSCAN_STYLE_E2 = 4 };

static inline uint8_t echoscan_style_class(uint8_t byte) {
    static const uint8_t classes[256] = {
        3,3,3,3,3,3,3,3,3,1,2,3,3,1,3,3, 3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,
        1,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3, 0,0,0,0,0,0,0,0,0,0,3,3,3,3,3,3,
        3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,3,3,3,3,0,
        3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,3,3,3,3,3,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,4,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    };
    return classes[byte];
}

// Whether the bytes at `position` are one of the UTF-8 marks U+2013-U+2026 (E2 80 93-A6).
static inline int echoscan_style_is_wide_mark(const uint8_t *text, size_t count, size_t position) {
    return position + 2 < count && text[position] == 0xE2 && text[position + 1] == 0x80
        && text[position + 2] >= 0x93 && text[position + 2] <= 0xA6;
}

// Reads the token that starts at `position` (not a space nor a newline): stores its hash and
// whether it is a word, and returns where it ends.
static inline size_t echoscan_style_token(const uint8_t *text, size_t count, size_t position, uint64_t *hash, int *is_word) {
    uint64_t h = 0xcbf29ce484222325ULL;
    uint8_t class = echoscan_style_class(text[position]);
    if (class == ECHOSCAN_STYLE_MARK || (class == ECHOSCAN_STYLE_E2 && echoscan_style_is_wide_mark(text, count, position))) {
        size_t length = class == ECHOSCAN_STYLE_MARK ? 1 : 3;
        for (size_t offset = 0; offset < length; offset++) h = (h ^ text[position + offset]) * 0x100000001b3ULL;
        *hash = h;
        *is_word = 0;
        return position + length;
    }
    while (position < count) {
        uint8_t byte = text[position];
        uint8_t c = echoscan_style_class(byte);
        if (c == ECHOSCAN_STYLE_E2) {
            if (echoscan_style_is_wide_mark(text, count, position)) break;
        } else if (c != ECHOSCAN_STYLE_WORD) {
            break;
        }
        if (byte >= 'A' && byte <= 'Z') byte |= 0x20;
        h = (h ^ byte) * 0x100000001b3ULL;
        position++;
    }
    *hash = h;
    *is_word = 1;
    return position;
}

#endif
