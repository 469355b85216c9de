/* Memory-bound loops: a blocked matrix multiply over static arrays. */
#include "common.h"

#define N 96
static int A[N][N], B[N][N], C[N][N];

KERNEL {
    u32 seed = 42;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = (int)(xorshift32(&seed) & 0xff);
            B[i][j] = (int)(xorshift32(&seed) & 0xff);
        }
    u32 check = 0; /* unsigned: the sum may wrap for large n */
    for (int rep = 0; rep < n; rep++) {
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) C[i][j] = 0;
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++) {
                int aik = A[i][k] + rep;
                for (int j = 0; j < N; j++) C[i][j] += aik * B[k][j];
            }
        check += (u32)C[rep % N][(rep * 7) % N];
    }
    return (int)check;
}
