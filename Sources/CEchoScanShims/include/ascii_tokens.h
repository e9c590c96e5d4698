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
/// (hashed as `TokenHasher` hashes their lowercased bytes), HTML tags and entities and list
/// markers. Returns where to go on; `*needs_general_step` is set when the tokenizer's general
/// path must take a step there (a non-ASCII byte, a word followed by one, a word broken by a
/// hyphen at a line end, a word of 64 bytes or more), and cleared when fewer than 64 bytes are
/// left. Returns SIZE_MAX if `tokens` ran out of room.
size_t echoscan_tokenize_ascii(const uint8_t *text, size_t text_count, size_t index,
                               uint64_t seed, echoscan_token_buffer *tokens, bool *needs_general_step);

/// The end of an HTML tag such as `<b>`, `</div>` or `<a href="…">` at `start` (which holds
/// "<"), or -1: a letter after "<" or "</", then ">" within 256 bytes before any "<" (line breaks
/// included: re-wrapping may break a tag's attributes over lines).
long echoscan_html_tag_end(const uint8_t *text, size_t text_count, size_t start);

/// `TokenHasher` over the lowercased bytes of the ASCII word of `length` bytes at `start`: eight
/// bytes at a time (OR-ing 0x20 lowercases letters and leaves digits as they are), then the
/// tail and the length.
uint64_t echoscan_hash_ascii_word(const uint8_t *text, size_t text_count, size_t start, size_t length, uint64_t seed);

/// Whether the word of `length` bytes at `start` is an ordered-list marker's number: one or two
/// digits after white space, "(", a tag's ">" or the text's start, then "." or ")" and white
/// space or a tag. Dropped wherever it stands, so that a list reads the same with its lines joined or as
/// HTML; "2019.", "3.5" and "x**2)" are not markers.
bool echoscan_is_list_marker(const uint8_t *text, size_t text_count, size_t start, size_t length);

/// Whether the word at `start` is the name of an HTML entity: after "&" or "&#", before ";",
/// at most 8 bytes ("&amp;", "&#39;", "&#x2014;"). Entities separate words like the characters
/// they stand for.
bool echoscan_is_entity_name(const uint8_t *text, size_t text_count, size_t start, size_t length);

/// Whether a word ending at `end` is broken by a hyphen at a line end ("-\n" or "-\r").
bool echoscan_is_hyphen_break(const uint8_t *text, size_t text_count, size_t end);

#endif
