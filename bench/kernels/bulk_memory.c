/* Bulk memory copy and fill (memory.copy / memory.fill with -mbulk-memory). */
#include "common.h"

#define LEN 65536
static unsigned char a[LEN], b[LEN];

KERNEL {
    u32 sum = 0;
    for (int rep = 0; rep < n; rep++) {
        __builtin_memset(a, rep & 0xff, LEN);
        for (int chunk = 0; chunk < 64; chunk++) {
            int off = (chunk * 997 + rep) % (LEN / 2);
            __builtin_memcpy(b + off, a + (chunk * 64), LEN / 2 - 64);
            __builtin_memmove(b + 1, b, 4096);
        }
        sum += b[rep % LEN] + b[(rep * 31) % LEN];
    }
    return (int)sum;
}
