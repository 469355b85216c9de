/* Random: getentropy fills buffers with bytes that differ between calls
 * and are not all zero. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    unsigned char a[32], b[32], zero[32] = {0};
    if (getentropy(a, sizeof a) != 0 || getentropy(b, sizeof b) != 0) {
        printf("getentropy failed\n");
        return 1;
    }
    printf("two draws differ: %s\n", memcmp(a, b, sizeof a) != 0 ? "yes" : "no");
    printf("not all zero: %s\n", memcmp(a, zero, sizeof a) != 0 ? "yes" : "no");
    /* A larger request (getentropy allows at most 256 bytes at once). */
    unsigned char big[256];
    memset(big, 0, sizeof big);
    printf("256 bytes: %s\n", getentropy(big, sizeof big) == 0 ? "ok" : "failed");
    int seen_nonzero_tail = 0;
    for (int i = 192; i < 256; i++)
        seen_nonzero_tail |= big[i];
    printf("tail filled: %s\n", seen_nonzero_tail ? "yes" : "no");
    return 0;
}
