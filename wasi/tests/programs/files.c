/* Files in a preopened directory (the current directory): create, write,
 * read back, append, seek, stat, truncate, rename, list, make and remove
 * directories, unlink. Every step prints what it saw. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void check(int ok, const char *what) {
    if (!ok) {
        printf("FAILED: %s: %s\n", what, strerror(errno));
        exit(1);
    }
}

static int compare(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints the entries of `path` (without . and ..), sorted, with their
 * types. */
static void list(const char *path) {
    DIR *dir = opendir(path);
    check(dir != NULL, "opendir");
    char *names[64];
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        char *line = malloc(300);
        const char *kind = entry->d_type == DT_DIR ? "dir" : entry->d_type == DT_REG ? "file" : "other";
        snprintf(line, 300, "%s (%s)", entry->d_name, kind);
        if (n < 64)
            names[n++] = line;
    }
    closedir(dir);
    qsort(names, n, sizeof(char *), compare);
    printf("listing %s: %d entries\n", path, n);
    for (int i = 0; i < n; i++) {
        printf("  %s\n", names[i]);
        free(names[i]);
    }
}

int main(void) {
    /* Write a new file with stdio. */
    FILE *f = fopen("notes.txt", "w");
    check(f != NULL, "fopen notes.txt for writing");
    fprintf(f, "first line\nsecond line\n");
    check(fclose(f) == 0, "fclose");

    /* Read it back. */
    char line[128];
    f = fopen("notes.txt", "r");
    check(f != NULL, "fopen notes.txt for reading");
    while (fgets(line, sizeof line, f))
        printf("read: %s", line);
    fclose(f);

    /* Append with the POSIX interface. */
    int fd = open("notes.txt", O_WRONLY | O_APPEND);
    check(fd >= 0, "open O_APPEND");
    check(write(fd, "third line\n", 11) == 11, "write");
    close(fd);

    /* Seek and read a piece. */
    fd = open("notes.txt", O_RDONLY);
    check(fd >= 0, "open O_RDONLY");
    check(lseek(fd, 6, SEEK_SET) == 6, "lseek");
    char piece[5] = {0};
    check(read(fd, piece, 4) == 4, "read");
    printf("at offset 6: %s\n", piece);
    printf("now at: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    char at[7] = {0};
    check(pread(fd, at, 6, 11) == 6, "pread");
    printf("pread at 11: %s\n", at);
    struct stat st;
    check(fstat(fd, &st) == 0, "fstat");
    printf("size: %lld, regular: %d\n", (long long)st.st_size, S_ISREG(st.st_mode) ? 1 : 0);
    close(fd);

    /* Truncate and stat by path. */
    check(truncate("notes.txt", 10) == 0, "truncate");
    check(stat("notes.txt", &st) == 0, "stat");
    printf("size after truncate: %lld\n", (long long)st.st_size);

    /* Directories. */
    check(mkdir("sub", 0755) == 0, "mkdir sub");
    check(mkdir("sub/deeper", 0755) == 0, "mkdir sub/deeper");
    errno = 0;
    printf("mkdir sub again: %s\n", mkdir("sub", 0755) == 0 ? "ok" : (errno == EEXIST ? "EEXIST" : "other error"));
    f = fopen("sub/inner.txt", "w");
    check(f != NULL, "fopen sub/inner.txt");
    fputs("inside\n", f);
    fclose(f);
    check(stat("sub", &st) == 0, "stat sub");
    printf("sub is a directory: %d\n", S_ISDIR(st.st_mode) ? 1 : 0);

    /* Rename, within a directory and across directories. */
    check(rename("notes.txt", "renamed.txt") == 0, "rename");
    errno = 0;
    printf("old name after rename: %s\n", access("notes.txt", F_OK) == 0 ? "exists" : (errno == ENOENT ? "ENOENT" : "other error"));
    check(rename("sub/inner.txt", "moved.txt") == 0, "rename across directories");
    list(".");
    list("sub");

    /* Remove things; removing a non-empty directory fails. */
    errno = 0;
    printf("rmdir non-empty sub: %s\n", rmdir("sub") == 0 ? "ok" : (errno == ENOTEMPTY ? "ENOTEMPTY" : "other error"));
    check(rmdir("sub/deeper") == 0, "rmdir sub/deeper");
    check(rmdir("sub") == 0, "rmdir sub");
    check(unlink("moved.txt") == 0, "unlink moved.txt");
    errno = 0;
    printf("open missing file: %s\n", open("missing.txt", O_RDONLY) >= 0 ? "opened" : (errno == ENOENT ? "ENOENT" : "other error"));
    list(".");

    f = fopen("renamed.txt", "r");
    check(f != NULL, "fopen renamed.txt");
    size_t n = fread(line, 1, sizeof line - 1, f);
    line[n] = 0;
    printf("final contents: [%s]\n", line);
    fclose(f);
    return 0;
}
