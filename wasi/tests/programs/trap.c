/* A trap: `crash_here` executes `unreachable` (what __builtin_trap and
 * abort() compile to). The run must fail with the trap and a backtrace
 * naming crash_here, called from `middle`. */
#include <stdio.h>

__attribute__((noinline)) void crash_here(int x) {
    if (x > 0)
        __builtin_trap();
}

__attribute__((noinline)) void middle(int x) {
    crash_here(x);
    printf("not reached\n");
}

int main(int argc, char **argv) {
    (void)argv;
    printf("before the trap\n");
    fflush(stdout);
    middle(argc);
    return 0;
}
