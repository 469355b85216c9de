/* Standard input from a pipe: waits for it with poll(), then reads it all
 * and prints the lines upper-cased, with line and byte counts. */
#include <ctype.h>
#include <poll.h>
#include <stdio.h>

int main(void) {
    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    int ready = poll(&pfd, 1, 10000);
    /* Data, or end of file (POSIX reports a closed, empty pipe as POLLHUP
     * alone; WASI's event always carries "readable" too). */
    printf("poll: %d, ready: %s\n", ready, (pfd.revents & (POLLIN | POLLHUP)) ? "yes" : "no");

    char line[256];
    int lines = 0;
    long bytes = 0;
    while (fgets(line, sizeof line, stdin)) {
        lines++;
        for (char *p = line; *p; p++) {
            bytes++;
            *p = (char)toupper((unsigned char)*p);
        }
        fputs(line, stdout);
    }
    printf("%d lines, %ld bytes, eof: %s\n", lines, bytes, feof(stdin) ? "yes" : "no");
    return 0;
}
