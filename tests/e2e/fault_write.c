// A fault layer for the e2e tests (LD_PRELOAD): a full disk (ENOSPC) or a failing fsync (EIO)
// on the files whose path contains a given text, as the kernel reports them.
//   FAULT_MATCH  text the file's path must contain (read from /proc/self/fd)
//   FAULT_OP     "write": the first matching write after FAULT_SKIP writes writes half of its
//                bytes (a write cut short by a full disk) and that write and every later one
//                fail with ENOSPC; "fsync": matching fsync/fdatasync fail with EIO after
//                FAULT_SKIP of them
//                "stall": the first matching write after FAULT_SKIP writes nothing: it creates
//                the file FAULT_STALLED (when set) and blocks that thread for good, so a test
//                can SIGKILL the process at that exact point (a kill in the group commit)
//   FAULT_SKIP   matching calls let through first (default 0)
// Only the writes of the binary under test go through it; nothing else is changed.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int matches(int fd) {
    const char* match = getenv("FAULT_MATCH");
    if (match == NULL || *match == '\0') {
        return 0;
    }
    char link[64];
    char path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) {
        return 0;
    }
    path[n] = '\0';
    return strstr(path, match) != NULL;
}

static int op_is(const char* op) {
    const char* want = getenv("FAULT_OP");
    return want != NULL && strcmp(want, op) == 0;
}

static long skip_left(void) {
    static long left = -1;
    if (left < 0) {
        const char* s = getenv("FAULT_SKIP");
        left = s ? atol(s) : 0;
    }
    return left > 0 ? left-- : 0;
}

static int full = 0;  // the disk is full from the first failing write on

ssize_t write(int fd, const void* buf, size_t count) {
    static ssize_t (*real)(int, const void*, size_t) = NULL;
    if (real == NULL) {
        real = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
    }
    if (fd > 2 && count > 0 && op_is("stall") && matches(fd) && skip_left() == 0) {
        const char* marker = getenv("FAULT_STALLED");
        if (marker != NULL && *marker != '\0') {
            FILE* f = fopen(marker, "w");
            if (f != NULL) {
                fclose(f);
            }
        }
        for (;;) {
            pause();  // the test kills the process here
        }
    }
    if (fd > 2 && count > 0 && op_is("write") && matches(fd)) {
        if (full) {
            errno = ENOSPC;
            return -1;
        }
        if (skip_left() == 0) {
            full = 1;
            if (count > 1) {
                return real(fd, buf, count / 2);  // cut short; the rest fails
            }
            errno = ENOSPC;
            return -1;
        }
    }
    return real(fd, buf, count);
}

static int fail_sync(int fd) {
    return fd > 2 && op_is("fsync") && matches(fd) && skip_left() == 0;
}

int fsync(int fd) {
    static int (*real)(int) = NULL;
    if (real == NULL) {
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    }
    if (fail_sync(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int) = NULL;
    if (real == NULL) {
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    }
    if (fail_sync(fd)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
