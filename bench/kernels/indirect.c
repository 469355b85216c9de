/* Indirect calls through a table of function pointers. */
#include "common.h"

typedef u32 (*op_fn)(u32, u32);
static u32 __attribute__((noinline)) op_add(u32 a, u32 b) { return a + b; }
static u32 __attribute__((noinline)) op_xor(u32 a, u32 b) { return a ^ (b * 3); }
static u32 __attribute__((noinline)) op_mix(u32 a, u32 b) { return rotl32(a, 5) + b; }
static u32 __attribute__((noinline)) op_sub(u32 a, u32 b) { return a - (b >> 1); }
static volatile op_fn table[4] = {op_add, op_xor, op_mix, op_sub};

KERNEL {
    u32 acc = 1, seed = 12345;
    for (int i = 0; i < n; i++) {
        u32 r = xorshift32(&seed);
        acc = table[r & 3](acc, r);
    }
    return (int)acc;
}
