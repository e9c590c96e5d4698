#ifndef ECHOSCAN_BYTE_CLASSES_H
#define ECHOSCAN_BYTE_CLASSES_H

// Classifies bytes of text for the tokenizer and the JSON reader at a few instructions per 16
// bytes (SSE2's byte compares and movemask, which Swift's SIMD types cannot express); other
// machines take the portable loops. Static inline, so that Swift inlines them into its loops.

#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Bit i describes byte i of the 64.
typedef struct {
    /// An ASCII letter or digit.
    uint64_t words;
    /// "<" or a non-ASCII byte: what the tokenizer must look at.
    uint64_t specials;
} echoscan_byte_classes;

static inline echoscan_byte_classes echoscan_classify64(const uint8_t *bytes) {
    echoscan_byte_classes classes = {0, 0};
#if defined(__SSE2__)
    // Range tests with signed compares: adding 0x80 - lo maps [lo, lo + n) onto [-128, -128 + n).
    const __m128i letterShift = _mm_set1_epi8((char)(0x80 - 'a'));
    const __m128i letterLimit = _mm_set1_epi8((char)(-128 + 26));
    const __m128i digitShift = _mm_set1_epi8((char)(0x80 - '0'));
    const __m128i digitLimit = _mm_set1_epi8((char)(-128 + 10));
    const __m128i caseBit = _mm_set1_epi8(0x20);
    const __m128i angle = _mm_set1_epi8('<');
    for (int group = 0; group < 4; group++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(bytes + 16 * group));
        __m128i letters = _mm_cmplt_epi8(_mm_add_epi8(_mm_or_si128(v, caseBit), letterShift), letterLimit);
        __m128i digits = _mm_cmplt_epi8(_mm_add_epi8(v, digitShift), digitLimit);
        // A byte of 0x80 or more has its high bit set already: movemask takes it as special.
        __m128i specials = _mm_or_si128(v, _mm_cmpeq_epi8(v, angle));
        classes.words |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_or_si128(letters, digits)) << (16 * group);
        classes.specials |= (uint64_t)(uint16_t)_mm_movemask_epi8(specials) << (16 * group);
    }
#else
    for (int i = 0; i < 64; i++) {
        uint8_t byte = bytes[i];
        uint8_t folded = byte | 0x20;
        int word = (folded >= 'a' && folded <= 'z') || (byte >= '0' && byte <= '9');
        int special = byte >= 0x80 || byte == '<';
        classes.words |= (uint64_t)word << i;
        classes.specials |= (uint64_t)special << i;
    }
#endif
    return classes;
}

// For the JSON reader's string scan: bit i is set when byte i of the 16 is a quote, a backslash,
// a control byte (below 0x20) or a non-ASCII byte, i.e. when the scan must stop and look.
static inline uint32_t echoscan_json_string_stops16(const uint8_t *bytes) {
#if defined(__SSE2__)
    __m128i v = _mm_loadu_si128((const __m128i *)bytes);
    // Signed compare: bytes from 0x80 are negative, so below 0x20 takes them too.
    __m128i stops = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    return (uint32_t)_mm_movemask_epi8(stops);
#else
    uint32_t stops = 0;
    for (int i = 0; i < 16; i++) {
        uint8_t byte = bytes[i];
        stops |= (uint32_t)(byte < 0x20 || byte >= 0x80 || byte == '"' || byte == '\\') << i;
    }
    return stops;
#endif
}

#endif
