#include "ascii_tokens.h"
#include "byte_classes.h"

#include <string.h>

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 33;
    return x;
}

static inline uint64_t load64(const uint8_t *bytes) {
    uint64_t value;
    memcpy(&value, bytes, 8);
    return value; // x86-64 and arm64 are little-endian, as TokenHasher's byte order is
}

uint64_t echoscan_hash_ascii_word(const uint8_t *text, size_t text_count, size_t start, size_t length, uint64_t seed) {
    const uint64_t lower = 0x2020202020202020ull;
    uint64_t state = seed;
    size_t position = start, left = length;
    while (left >= 8) {
        state = mix(state ^ (load64(text + position) | lower)) + 0x9E3779B97F4A7C15ull;
        position += 8;
        left -= 8;
    }
    uint64_t word = 0;
    if (left > 0) {
        uint64_t tail;
        if (text_count - position >= 8) {
            tail = load64(text + position);
        } else if (position + left >= 8) {
            tail = load64(text + position + left - 8) >> (8 * (8 - left));
        } else {
            tail = 0;
            for (size_t i = 0; i < left; i++) tail |= (uint64_t)text[position + i] << (8 * i);
        }
        word = (tail | lower) & ((1ull << (8 * left)) - 1);
    }
    return mix(state ^ word ^ ((uint64_t)length << 56));
}

static inline bool is_ascii_letter(uint8_t byte) { return (uint8_t)((byte | 0x20) - 'a') < 26; }
static inline bool is_ascii_digit(uint8_t byte) { return (uint8_t)(byte - '0') < 10; }

long echoscan_html_tag_end(const uint8_t *text, size_t text_count, size_t start) {
    size_t index = start + 1;
    if (index < text_count && text[index] == '/') index++;
    if (!(index < text_count && is_ascii_letter(text[index]))) return -1;
    size_t limit = text_count < start + 256 ? text_count : start + 256;
    for (; index < limit; index++) {
        uint8_t byte = text[index];
        if (byte == '>') return (long)(index + 1);
        if (byte == '<') return -1;
    }
    return -1;
}

bool echoscan_is_list_marker(const uint8_t *text, size_t text_count, size_t start, size_t length) {
    if (length > 2) return false;
    if (start > 0) {
        uint8_t before = text[start - 1];
        if (!(before == ' ' || before == '\t' || before == '\n' || before == '\r' || before == '(' || before == '>')) return false;
    }
    for (size_t i = start; i < start + length; i++) {
        if (!is_ascii_digit(text[i])) return false;
    }
    size_t end = start + length;
    if (end >= text_count) return false;
    uint8_t mark = text[end];
    if (end + 1 == text_count) return mark == '.' || mark == ')';
    uint8_t after = text[end + 1];
    return (mark == '.' || mark == ')') && (after == ' ' || after == '\t' || after == '\n' || after == '\r' || after == '<');
}

bool echoscan_is_entity_name(const uint8_t *text, size_t text_count, size_t start, size_t length) {
    size_t end = start + length;
    if (length > 8 || start == 0 || end >= text_count || text[end] != ';') return false;
    uint8_t before = text[start - 1];
    return before == '&' || (before == '#' && start >= 2 && text[start - 2] == '&');
}

bool echoscan_is_hyphen_break(const uint8_t *text, size_t text_count, size_t end) {
    return end + 1 < text_count && text[end] == '-' && (text[end + 1] == '\n' || text[end + 1] == '\r');
}

static inline unsigned trailing_zeros(uint64_t value) { return value == 0 ? 64 : (unsigned)__builtin_ctzll(value); }

size_t echoscan_tokenize_ascii(const uint8_t *text, size_t text_count, size_t index,
                               uint64_t seed, echoscan_token_buffer *tokens, bool *needs_general_step) {
    size_t count = tokens->count;
    const size_t capacity = tokens->capacity;
    uint64_t *hashes = tokens->hashes;
    uint32_t *starts = tokens->starts, *ends = tokens->ends;
    bool general = false;
    while (index + 64 <= text_count) {
        const size_t block = index;
        echoscan_byte_classes classes = echoscan_classify64(text + block);
        uint64_t words = classes.words, specials = classes.specials;
        size_t next = block + 64; // where the next block starts, unless a case below says otherwise
        for (;;) {
            unsigned word_start = trailing_zeros(words), special = trailing_zeros(specials);
            if (special < word_start) {
                size_t position = block + special;
                uint8_t byte = text[position];
                if (byte == '<') {
                    long tag_end = echoscan_html_tag_end(text, text_count, position);
                    if (tag_end >= 0) {
                        size_t consumed = (size_t)tag_end - block;
                        if (consumed >= 64) { next = (size_t)tag_end; break; }
                        uint64_t below = (1ull << consumed) - 1;
                        words &= ~below;
                        specials &= ~below;
                        continue;
                    }
                } else {
                    next = position;
                    general = true;
                    break;
                }
                specials &= specials - 1;
                continue;
            }
            if (word_start >= 64) break; // only separators are left
            unsigned length = trailing_zeros(~(words >> word_start));
            unsigned end = word_start + length;
            size_t start = block + word_start;
            // A word that reaches the block's end may go on: the next block starts with it.
            if (end >= 64) { next = start; general = word_start == 0; break; }
            // A non-ASCII scalar right after the word may continue it ("café").
            if (((specials >> end) & 1) && text[block + end] >= 0x80) { next = start; general = true; break; }
            // A word broken across lines ("exam-\nple") is joined by the general path.
            if (echoscan_is_hyphen_break(text, text_count, block + end)) { next = start; general = true; break; }
            words &= ~((1ull << end) - 1);
            if (echoscan_is_list_marker(text, text_count, start, length)) continue;
            if (echoscan_is_entity_name(text, text_count, start, length)) continue;
            if (count >= capacity) { index = SIZE_MAX; goto done; }
            hashes[count] = echoscan_hash_ascii_word(text, text_count, start, length, seed);
            starts[count] = (uint32_t)start;
            ends[count] = (uint32_t)(start + length);
            count++;
        }
        index = next;
        if (general) break;
    }
done:
    tokens->count = count;
    *needs_general_step = general;
    return index;
}
