/* Shared helpers for Kiln's benchmark kernels: freestanding C, no libc.
 * Each kernel exports `int run(int n)`; the result depends on all the work so
 * no compiler can skip it, and the harness checks it against native code. */
#ifndef KILN_BENCH_COMMON_H
#define KILN_BENCH_COMMON_H

#define EXPORT(name) __attribute__((export_name(#name)))
#if defined(__wasm__)
#define KERNEL EXPORT(run) int run(int n)
#else
#define KERNEL int run(int n)
#endif

typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long i64;

static inline u32 rotl32(u32 x, int r) { return (x << r) | (x >> (32 - r)); }
static inline u32 rotr32(u32 x, int r) { return (x >> r) | (x << (32 - r)); }

/* A fixed-seed generator so every engine sees the same data. */
static inline u32 xorshift32(u32 *state) {
    u32 x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

#endif
