// A clock layer for the e2e tests (LD_PRELOAD): the wall clock of the binary under test reads
// TIME_SHIFT_SECONDS later than the machine's (a run "a day later" without waiting a day).
// Only CLOCK_REALTIME (and its coarse variant), gettimeofday and time move; the monotonic clocks
// that pace retries and timeouts are left alone.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long shift_seconds(void) {
    const char* s = getenv("TIME_SHIFT_SECONDS");
    return s == NULL ? 0 : strtol(s, NULL, 10);
}

int clock_gettime(clockid_t id, struct timespec* tp) {
    static int (*real)(clockid_t, struct timespec*) = NULL;
    if (real == NULL) {
        real = (int (*)(clockid_t, struct timespec*))dlsym(RTLD_NEXT, "clock_gettime");
    }
    int r = real(id, tp);
    if (r == 0 && tp != NULL && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        tp->tv_sec += shift_seconds();
    }
    return r;
}

int gettimeofday(struct timeval* restrict tv, void* restrict tz) {
    static int (*real)(struct timeval*, void*) = NULL;
    if (real == NULL) {
        real = (int (*)(struct timeval*, void*))dlsym(RTLD_NEXT, "gettimeofday");
    }
    int r = real(tv, tz);
    if (r == 0 && tv != NULL) {
        tv->tv_sec += shift_seconds();
    }
    return r;
}

time_t time(time_t* t) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (t != NULL) {
        *t = ts.tv_sec;
    }
    return ts.tv_sec;
}
