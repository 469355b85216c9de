/* 64-bit arithmetic: modular exponentiation with 64-bit multiply, divide and remainder. */
#include "common.h"

static u64 mulmod(u64 a, u64 b, u64 m) {
    /* Operands stay below 2^31 so the product fits in 64 bits. */
    return (a * b) % m;
}

KERNEL {
    const u64 m = 2147483629ull; /* a prime below 2^31 */
    u64 acc = 0;
    for (int i = 1; i <= n; i++) {
        u64 base = (u64)i * 2654435761ull % m, e = (u64)i | 0x10001, r = 1;
        while (e) {
            if (e & 1) r = mulmod(r, base, m);
            base = mulmod(base, base, m);
            e >>= 1;
        }
        acc += r ^ (acc >> 7);
        acc = (i64)acc / 3 + (acc % 1000003);
    }
    return (int)(acc ^ (acc >> 32));
}
