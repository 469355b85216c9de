/* Arguments and environment: prints argv[1..] and the environment,
 * sorted, so the output does not depend on the order the host gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int compare(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("arg[%d]=%s\n", i, argv[i]);

    int count = 0;
    for (char **e = environ; *e; e++)
        count++;
    char **sorted = malloc(sizeof(char *) * (count + 1));
    memcpy(sorted, environ, sizeof(char *) * count);
    qsort(sorted, count, sizeof(char *), compare);
    printf("environ has %d entries\n", count);
    for (int i = 0; i < count; i++)
        printf("env %s\n", sorted[i]);

    const char *greeting = getenv("GREETING");
    printf("getenv(GREETING)=%s\n", greeting ? greeting : "(unset)");
    const char *missing = getenv("KILN_SURELY_UNSET");
    printf("getenv(KILN_SURELY_UNSET)=%s\n", missing ? missing : "(unset)");
    free(sorted);
    return 0;
}
