/* Sorting: quicksort with an insertion-sort cutoff over pseudo-random ints. */
#include "common.h"

#define LEN 20000
static int data[LEN];

static void insertion(int *a, int lo, int hi) {
    for (int i = lo + 1; i <= hi; i++) {
        int v = a[i], j = i - 1;
        while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
        a[j + 1] = v;
    }
}

static void quicksort(int *a, int lo, int hi) {
    while (hi - lo > 16) {
        int p = a[lo + (hi - lo) / 2], i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i <= j) { int t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
        else { quicksort(a, i, hi); hi = j; }
    }
    insertion(a, lo, hi);
}

KERNEL {
    u32 seed = 99;
    u32 check = 0; /* unsigned: the sum may wrap for large n */
    for (int rep = 0; rep < n; rep++) {
        for (int i = 0; i < LEN; i++) data[i] = (int)(xorshift32(&seed) % 1000000);
        quicksort(data, 0, LEN - 1);
        for (int i = 1; i < LEN; i++)
            if (data[i - 1] > data[i]) return -1;
        check += (u32)(data[LEN / 2] + data[rep % LEN]);
    }
    return (int)check;
}
