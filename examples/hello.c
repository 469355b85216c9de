/* A WASI program for `kiln run`: greets, then lists the current directory,
 * which it can see only when it is given one (`kiln run --dir . hello.wasm`).
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -o hello.wasm examples/hello.c
 *   kiln run --dir . hello.wasm
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
    printf("Hello from WebAssembly!\n");
    DIR *dir = opendir(".");
    if (dir == NULL) {
        perror("cannot open the current directory (run with --dir .)");
        return 1;
    }
    char *names[256];
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < 256) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        size_t len = strlen(entry->d_name);
        char *name = malloc(len + 2);
        memcpy(name, entry->d_name, len + 1);
        if (entry->d_type == DT_DIR)
            strcat(name, "/");
        names[count++] = name;
    }
    closedir(dir);
    qsort(names, count, sizeof names[0], compare);
    printf("The current directory has %d entries:\n", count);
    for (int i = 0; i < count; i++) {
        printf("  %s\n", names[i]);
        free(names[i]);
    }
    return 0;
}
