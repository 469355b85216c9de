/* Sandbox escapes. The harness preopens a directory as /sandbox holding
 * inside.txt, sub/, and three symbolic links planted on the host:
 * link_rel -> ../secret.txt, link_abs -> <absolute path of secret.txt>,
 * link_dir -> .. ; secret.txt sits next to the sandbox, outside it.
 * argv[1] is the secret's absolute host path.
 *
 * Each attempt goes straight to the WASI call (so the host, not libc,
 * decides) and prints the errno's name. Every one must be refused with
 * ENOTCAPABLE or EPERM, the two errnos the WASI contract allows for it; an
 * attempt that succeeds or fails with any other errno is marked
 * "NOT REFUSED" and makes the program exit with status 1. A successful
 * open prints the file's contents, which the harness checks never contain
 * the secret. WASI-only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static __wasi_fd_t sandbox = (__wasi_fd_t)-1;

static const char *name(__wasi_errno_t e) {
    static char other[32];
    switch (e) {
    case __WASI_ERRNO_SUCCESS: return "SUCCESS";
    case __WASI_ERRNO_NOTCAPABLE: return "ENOTCAPABLE";
    case __WASI_ERRNO_PERM: return "EPERM";
    case __WASI_ERRNO_NOENT: return "ENOENT";
    case __WASI_ERRNO_LOOP: return "ELOOP";
    case __WASI_ERRNO_BADF: return "EBADF";
    default: snprintf(other, sizeof other, "errno %d", e); return other;
    }
}

/* Finds the preopened directory named /sandbox. */
static void find_sandbox(void) {
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t prestat;
        if (__wasi_fd_prestat_get(fd, &prestat) != 0)
            break;
        char buf[64] = {0};
        if (prestat.u.dir.pr_name_len < sizeof buf &&
            __wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, prestat.u.dir.pr_name_len) == 0 &&
            strcmp(buf, "/sandbox") == 0)
            sandbox = fd;
    }
}

/* Opens `path` under `dir` for reading; on success prints the contents. */
static __wasi_errno_t open_and_show(__wasi_fd_t dir, const char *path, __wasi_lookupflags_t follow,
                                    __wasi_oflags_t oflags) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dir, follow, path, oflags,
                                        __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_READDIR, 0, 0, &fd);
    if (e == 0) {
        char buf[128] = {0};
        __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
        __wasi_size_t n = 0;
        if (__wasi_fd_read(fd, &iov, 1, &n) == 0) {
            buf[strcspn(buf, "\n")] = 0;
            printf("    (opened; contents: %s)\n", buf);
        }
        (void)__wasi_fd_close(fd);
    }
    return e;
}

static int attempts, refused, failed_controls;

/* A control, which must succeed. */
static void control(const char *label, __wasi_errno_t e) {
    if (e != __WASI_ERRNO_SUCCESS)
        failed_controls++;
    printf("%s: %s\n", label, name(e));
}

/* An escape attempt, which must be refused with ENOTCAPABLE or EPERM. */
static void escape(const char *label, __wasi_errno_t e) {
    int ok = e == __WASI_ERRNO_NOTCAPABLE || e == __WASI_ERRNO_PERM;
    attempts++;
    refused += ok;
    printf("%s: %s%s\n", label, name(e), ok ? "" : " (NOT REFUSED)");
}

/* fopen through libc; on success prints the first line, like open_and_show.
 * wasi-libc's errno values are WASI's errnos. */
static __wasi_errno_t libc_open(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return (__wasi_errno_t)errno;
    char buf[128] = {0};
    if (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\n")] = 0;
        printf("    (opened; contents: %s)\n", buf);
    }
    fclose(f);
    return __WASI_ERRNO_SUCCESS;
}

int main(int argc, char **argv) {
    find_sandbox();
    if (sandbox == (__wasi_fd_t)-1 || argc < 2) {
        printf("no /sandbox preopen or no secret path\n");
        return 1;
    }
    const __wasi_lookupflags_t FOLLOW = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;

    /* The control: a file inside opens. */
    control("control: open inside.txt", open_and_show(sandbox, "inside.txt", FOLLOW, 0));
    control("control: open sub/../inside.txt", open_and_show(sandbox, "sub/../inside.txt", FOLLOW, 0));

    escape("open ../secret.txt", open_and_show(sandbox, "../secret.txt", FOLLOW, 0));
    escape("open sub/../../secret.txt", open_and_show(sandbox, "sub/../../secret.txt", FOLLOW, 0));
    escape("open /etc/passwd", open_and_show(sandbox, "/etc/passwd", FOLLOW, 0));
    escape("open absolute secret path", open_and_show(sandbox, argv[1], FOLLOW, 0));
    escape("open link_rel (-> ../secret.txt)", open_and_show(sandbox, "link_rel", FOLLOW, 0));
    escape("open link_abs (-> absolute secret)", open_and_show(sandbox, "link_abs", FOLLOW, 0));
    escape("open link_dir/secret.txt (link_dir -> ..)", open_and_show(sandbox, "link_dir/secret.txt", FOLLOW, 0));
    escape("open directory ..", open_and_show(sandbox, "..", FOLLOW, __WASI_OFLAGS_DIRECTORY));
    escape("open directory link_dir", open_and_show(sandbox, "link_dir", FOLLOW, __WASI_OFLAGS_DIRECTORY));

    /* From a subdirectory's own descriptor, .. is the edge too. */
    __wasi_fd_t sub;
    if (__wasi_path_open(sandbox, FOLLOW, "sub", __WASI_OFLAGS_DIRECTORY,
                         __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR,
                         __WASI_RIGHTS_FD_READ, 0, &sub) != 0) {
        printf("cannot open sub\n");
        return 1;
    }
    escape("open ../../secret.txt from sub", open_and_show(sub, "../../secret.txt", FOLLOW, 0));

    __wasi_filestat_t st;
    escape("stat ../secret.txt", __wasi_path_filestat_get(sandbox, FOLLOW, "../secret.txt", &st));
    escape("stat link_rel following it", __wasi_path_filestat_get(sandbox, FOLLOW, "link_rel", &st));
    escape("stat link_abs following it", __wasi_path_filestat_get(sandbox, FOLLOW, "link_abs", &st));
    escape("mkdir ../escaped_dir", __wasi_path_create_directory(sandbox, "../escaped_dir"));
    escape("mkdir link_dir/escaped_dir", __wasi_path_create_directory(sandbox, "link_dir/escaped_dir"));
    escape("rename inside.txt to ../escaped.txt", __wasi_path_rename(sandbox, "inside.txt", sandbox, "../escaped.txt"));
    escape("rename ../secret.txt to stolen.txt", __wasi_path_rename(sandbox, "../secret.txt", sandbox, "stolen.txt"));
    escape("unlink ../secret.txt", __wasi_path_unlink_file(sandbox, "../secret.txt"));
    escape("hard link ../secret.txt as stolen.txt", __wasi_path_link(sandbox, 0, "../secret.txt", sandbox, "stolen.txt"));
    escape("symlink to /etc/passwd", __wasi_path_symlink("/etc/passwd", sandbox, "new_link"));
    escape("create ../created.txt", open_and_show(sandbox, "../created.txt", FOLLOW, __WASI_OFLAGS_CREAT));

    /* Through libc: the path is matched to the /sandbox preopen and the
     * remainder goes to the host. */
    escape("libc fopen /sandbox/../secret.txt", libc_open("/sandbox/../secret.txt"));
    escape("libc fopen /sandbox/link_rel", libc_open("/sandbox/link_rel"));

    printf("%d of %d escapes refused\n", refused, attempts);
    return refused == attempts && failed_controls == 0 ? 0 : 1;
}
