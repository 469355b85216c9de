/* Clocks: the realtime clock is near the host's time (the harness passes
 * the host's time as argv[1]), the monotonic clock does not go backwards
 * and advances across a busy loop, resolutions are positive, CPU time is
 * readable. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long ns(struct timespec ts) {
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        printf("realtime: failed\n");
        return 1;
    }
    long long host = argc > 1 ? atoll(argv[1]) : 0;
    long long diff = (long long)ts.tv_sec - host;
    printf("realtime within 60s of the host: %s\n", (diff > -60 && diff < 60) ? "yes" : "no");
    printf("time() agrees: %s\n", llabs((long long)time(NULL) - ts.tv_sec) < 2 ? "yes" : "no");

    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    volatile unsigned sink = 0;
    for (unsigned i = 0; i < 2000000; i++)
        sink += i;
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("monotonic advances: %s\n", ns(b) > ns(a) ? "yes" : "no");

    struct timespec res;
    printf("realtime resolution positive: %s\n",
           clock_getres(CLOCK_REALTIME, &res) == 0 && ns(res) > 0 ? "yes" : "no");
    printf("monotonic resolution positive: %s\n",
           clock_getres(CLOCK_MONOTONIC, &res) == 0 && ns(res) > 0 ? "yes" : "no");
    printf("process cpu time readable: %s\n",
           clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0 ? "yes" : "no");
    return 0;
}
