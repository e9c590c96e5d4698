#include "style_weights.h"

// Manifests are byte-identical on every machine: no fused multiply-adds where a target has them.
#pragma clang fp contract(off)

// Rows this many features ahead are fetched, so that their misses overlap: 16 left most of the
// misses exposed, 48 halved the function's time, 96 and 32 were no better.
enum { PREFETCH_DISTANCE = 48 };

size_t echoscan_style_weigh(const uint32_t *features, size_t count, uint8_t *counts, const int8_t *weights,
                            const float *log_one_plus, float idf_scale, const uint64_t *phrase_bits,
                            float sums[ECHOSCAN_STYLE_LANES], float *norm, uint32_t *phrases) {
    for (size_t index = 0; index < count; index++) {
        uint8_t *slot = &counts[features[index]];
        if (*slot < 255) *slot += 1;
    }
    float sum[ECHOSCAN_STYLE_LANES] = {0};
    float squares = 0;
    size_t phrase_count = 0;
    for (size_t index = 0; index < count; index++) {
        if (index + PREFETCH_DISTANCE < count) {
            __builtin_prefetch(weights + (size_t)features[index + PREFETCH_DISTANCE] * ECHOSCAN_STYLE_LANES);
        }
        uint32_t feature = features[index];
        uint8_t occurrences = counts[feature];
        if (occurrences == 0) continue;  // weighed at its first occurrence
        counts[feature] = 0;
        const int8_t *row = weights + (size_t)feature * ECHOSCAN_STYLE_LANES;
        float value = log_one_plus[occurrences] * (float)row[ECHOSCAN_STYLE_LANES - 1] * idf_scale;
        for (int lane = 0; lane < ECHOSCAN_STYLE_LANES; lane++) sum[lane] += value * (float)row[lane];
        squares += value * value;
        if (phrase_bits[feature >> 6] & (1ULL << (feature & 63))) phrases[phrase_count++] = feature;
    }
    for (int lane = 0; lane < ECHOSCAN_STYLE_LANES; lane++) sums[lane] = sum[lane];
    *norm = squares;
    return phrase_count;
}
