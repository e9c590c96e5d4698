#ifndef ECHOSCAN_ASCII_TOKENS_H
#define ECHOSCAN_ASCII_TOKENS_H

// The tokenizer's inner loop over ASCII text, in C: the same loop in Swift took about 90
// instructions a token (values kept on the stack, checked shifts); here the compiler keeps the
// loop's state in registers. Tokenizer.swift holds the rules and everything beyond ASCII.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Where tokens are written: `count` of `capacity` slots are used.
typedef struct {
    uint64_t *hashes;
    uint32_t *starts;
    uint32_t *ends;
    size_t count;
    size_t capacity;
} echoscan_token_buffer;

/// Tokenizes `text` from `index` 64 bytes at a time while 64 bytes are left: ASCII words
/// (hashed as `TokenHasher` hashes their lowercased bytes), line breaks, HTML tags and list
/// markers at line starts. Returns where to go on; `*needs_general_step` is set when the
/// tokenizer's general path must take a step there (a non-ASCII byte, a word followed by one,
/// a word of 64 bytes or more), and cleared when fewer than 64 bytes are left. Returns
/// SIZE_MAX if `tokens` ran out of room.
size_t echoscan_tokenize_ascii(const uint8_t *text, size_t text_count, size_t index, bool *line_start,
                               uint64_t seed, echoscan_token_buffer *tokens, bool *needs_general_step);

/// The end of an HTML tag such as `<b>`, `</div>` or `<a href="…">` at `start` (which holds
/// "<"), or -1: a letter after "<" or "</", then ">" within 256 bytes before any "<" or line break.
long echoscan_html_tag_end(const uint8_t *text, size_t text_count, size_t start);

/// `TokenHasher` over the lowercased bytes of the ASCII word of `length` bytes at `start`: eight
/// bytes at a time (OR-ing 0x20 lowercases letters and leaves digits as they are), then the
/// tail and the length.
uint64_t echoscan_hash_ascii_word(const uint8_t *text, size_t text_count, size_t start, size_t length, uint64_t seed);

/// Whether the word of `length` bytes at `start` is an ordered-list marker's number: all digits,
/// then "." or ")" and a space or tab.
bool echoscan_is_list_marker(const uint8_t *text, size_t text_count, size_t start, size_t length);

#endif
