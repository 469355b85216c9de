/* poll_oneoff with clock subscriptions: nanosleep, and poll() with no
 * descriptors used as a sleep; both measured on the monotonic clock. */
#include <poll.h>
#include <stdio.h>
#include <time.h>

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void) {
    long long start = now_ms();
    struct timespec request = {0, 150 * 1000000};
    int rc = nanosleep(&request, NULL);
    long long slept = now_ms() - start;
    printf("nanosleep returned %d, slept at least 150ms: %s, less than 5s: %s\n", rc,
           slept >= 150 ? "yes" : "no", slept < 5000 ? "yes" : "no");

    start = now_ms();
    rc = poll(NULL, 0, 100);
    slept = now_ms() - start;
    printf("poll timeout returned %d, waited at least 100ms: %s\n", rc, slept >= 100 ? "yes" : "no");
    return 0;
}
