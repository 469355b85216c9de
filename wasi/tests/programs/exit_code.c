/* Exit codes: `exit_code exit N` calls exit(N) (WASI proc_exit) after
 * buffered output, `exit_code return N` returns N from main, and
 * `exit_code quick N` calls _Exit(N), which skips stdio flushing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: exit_code exit|return|quick N\n");
        return 2;
    }
    int code = atoi(argv[2]);
    printf("leaving with %d via %s\n", code, argv[1]);
    if (strcmp(argv[1], "exit") == 0)
        exit(code);
    if (strcmp(argv[1], "quick") == 0) {
        fflush(stdout);
        _Exit(code);
    }
    return code;
}
