/* Byte-wise string processing: tokenising, counting and naive substring search. */
#include "common.h"

#define LEN 16384
static unsigned char text[LEN + 1];

static int is_alpha(unsigned char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }

KERNEL {
    u32 seed = 7;
    const char *words[] = {"kiln ", "wasm ", "the ", "interpreter, ", "fast ", "start-up. "};
    int at = 0;
    while (at < LEN) {
        const char *w = words[xorshift32(&seed) % 6];
        while (*w && at < LEN) text[at++] = (unsigned char)*w++;
    }
    text[LEN] = 0;
    int total = 0;
    for (int rep = 0; rep < n; rep++) {
        int wordsn = 0, in_word = 0, hits = 0;
        for (int i = 0; text[i]; i++) {
            int a = is_alpha(text[i]);
            wordsn += a && !in_word;
            in_word = a;
        }
        const unsigned char *pat = (const unsigned char *)"interpreter";
        for (int i = 0; text[i]; i++) {
            int j = 0;
            while (pat[j] && text[i + j] == pat[j]) j++;
            hits += !pat[j];
        }
        /* Upper-case every other word in place so repetitions differ. */
        text[(rep * 131) % LEN] ^= 32 * is_alpha(text[(rep * 131) % LEN]);
        total += wordsn * 3 + hits;
    }
    return total;
}
