/* A hash table: open addressing with linear probing, inserts then lookups. */
#include "common.h"

#define CAP 65536
static u32 keys[CAP];
static int vals[CAP];

static u32 hash(u32 k) {
    k ^= k >> 16;
    k *= 0x7feb352d;
    k ^= k >> 15;
    k *= 0x846ca68b;
    return k ^ (k >> 16);
}

KERNEL {
    int found = 0;
    for (int rep = 0; rep < n; rep++) {
        for (int i = 0; i < CAP; i++) keys[i] = 0;
        u32 seed = 1 + rep;
        for (int i = 0; i < CAP / 2; i++) {
            u32 k = xorshift32(&seed) | 1, h = hash(k) & (CAP - 1);
            while (keys[h] && keys[h] != k) h = (h + 1) & (CAP - 1);
            keys[h] = k;
            vals[h] = i;
        }
        seed = 1 + rep;
        for (int i = 0; i < CAP / 2; i++) {
            /* Even keys are never inserted: misses. Never 0, the empty-slot marker. */
            u32 k = (i & 1) ? (xorshift32(&seed) | 1) : (u32)i * 2 + 2, h = hash(k) & (CAP - 1);
            while (keys[h] && keys[h] != k) h = (h + 1) & (CAP - 1);
            if (keys[h] == k) found += vals[h] & 7;
        }
    }
    return found;
}
