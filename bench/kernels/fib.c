/* Deep recursion and calls: naive Fibonacci. */
#include "common.h"

static int __attribute__((noinline)) fib(int k) { return k < 2 ? k : fib(k - 1) + fib(k - 2); }

KERNEL { return fib(n); }
