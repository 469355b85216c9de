/* Hello world: stdout and stderr pass through `kiln run`. */
#include <stdio.h>

int main(void) {
    printf("Hello, world!\n");
    printf("%s %d %.3f\n", "formatted:", 42, 2.5);
    fprintf(stderr, "this goes to stderr\n");
    return 0;
}
