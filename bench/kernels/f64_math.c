/* f64 math: the spectral-norm kernel (A * A^T * v iterations) in double precision. */
#include "common.h"

#define MAXN 400
static double u[MAXN], v[MAXN], tmp[MAXN];

static double a(int i, int j) { return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1); }

static void mul_av(int n, const double *x, double *y) {
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++) s += a(i, j) * x[j];
        y[i] = s;
    }
}
static void mul_atv(int n, const double *x, double *y) {
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++) s += a(j, i) * x[j];
        y[i] = s;
    }
}
static void mul_atav(int n, const double *x, double *y) {
    mul_av(n, x, tmp);
    mul_atv(n, tmp, y);
}

KERNEL {
    if (n > MAXN) n = MAXN;
    for (int i = 0; i < n; i++) u[i] = 1.0;
    for (int i = 0; i < 10; i++) {
        mul_atav(n, u, v);
        mul_atav(n, v, u);
    }
    double vbv = 0, vv = 0;
    for (int i = 0; i < n; i++) {
        vbv += u[i] * v[i];
        vv += v[i] * v[i];
    }
    /* sqrt without libm: Newton iterations. */
    double q = vbv / vv, r = q;
    for (int i = 0; i < 30; i++) r = 0.5 * (r + q / r);
    return (int)(r * 1e9);
}
