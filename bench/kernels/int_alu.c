/* Integer ALU work and rotates: a 32-bit hash mixer over a counter. */
#include "common.h"

KERNEL {
    u32 h1 = 0x9747b28c, h2 = 0x85ebca6b;
    for (int i = 0; i < n; i++) {
        u32 k = (u32)i * 0xcc9e2d51;
        k = rotl32(k, 15) * 0x1b873593;
        h1 ^= k;
        h1 = rotl32(h1, 13) * 5 + 0xe6546b64;
        h2 = rotr32(h2 ^ h1, 7) + (h1 >> 3) - (h2 << 2);
        h2 ^= (h2 & 0xff) == 0 ? 0xdeadbeef : (h1 | 1) % 7;
    }
    return (int)(h1 ^ h2);
}
