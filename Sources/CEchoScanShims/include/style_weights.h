#ifndef ECHOSCAN_STYLE_WEIGHTS_H
#define ECHOSCAN_STYLE_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

// The style model's weighing of one text (see StyleModel.swift), in C: the largest part of the
// style detector's cost. Once the rows' misses overlap (fetched 48 features ahead rather than
// 16), what is left is the loop's own work, and the same loop in Swift took 1.4 times as long
// (perf samples of a one-core scan of a clean 50 MB corpus).

// The lanes of a weight row: the classes' weights, then the bucket's idf.
enum { ECHOSCAN_STYLE_LANES = 8 };

/// For each distinct feature of `features` (each below the table's row count), in the order it
/// first occurs: x = log_one_plus(count) × idf × `idf_scale` (count saturating at 255; counted in
/// `counts`, one byte per row, all zero before and after), added as x × row to `sums` and as x²
/// to `*norm`. Features whose bit is set in `phrase_bits` are written to `phrases` (room for
/// `count` of them); returns how many were. `log_one_plus` holds log(1 + n) for n in 0...255.
size_t echoscan_style_weigh(const uint32_t *features, size_t count, uint8_t *counts, const int8_t *weights,
                            const float *log_one_plus, float idf_scale, const uint64_t *phrase_bits,
                            float sums[ECHOSCAN_STYLE_LANES], float *norm, uint32_t *phrases);

#endif
