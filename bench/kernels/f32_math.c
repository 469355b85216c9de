/* f32 math: a Mandelbrot set rendered in single precision. */
#include "common.h"

KERNEL {
    int size = n, total = 0;
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            float cr = 2.5f * x / size - 2.0f, ci = 2.0f * y / size - 1.0f;
            float zr = 0.0f, zi = 0.0f;
            int it = 0;
            while (it < 64 && zr * zr + zi * zi < 4.0f) {
                float t = zr * zr - zi * zi + cr;
                zi = 2.0f * zr * zi + ci;
                zr = t;
                it++;
            }
            total += it;
        }
    }
    return total;
}
