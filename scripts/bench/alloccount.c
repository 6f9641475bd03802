// A tiny LD_PRELOAD heap-allocation (and mutex-acquisition) counter for scripts/bench/allocs.sh.
//
// Every malloc, calloc, realloc, memalign, posix_memalign, aligned_alloc, valloc and pvalloc of the process is
// counted (one atomic add) and forwarded to glibc's own implementation through its exported __libc_* entry points,
// so no dlsym bootstrap is needed. pthread_mutex_lock (what NIOLock and NIOLockedValueBox use on Linux) and
// pthread_rwlock_{rd,wr}lock are counted the same way, forwarded to glibc's versioned symbols. A background thread
// rewrites "ALLOCATIONS LOCKS", in decimal, to the file named by ALLOCCOUNT_FILE every 20 ms; the benchmark reads it
// before and after a load run and divides by the requests.
// Build: cc -O2 -shared -fPIC -o alloccount.so alloccount.c -lpthread
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static uint64_t allocations;
static uint64_t locks;

// glibc's own lock functions under their old version names (the plain names are the ones overridden here).
__asm__(".symver glibc_mutex_lock, __pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver glibc_rwlock_rdlock, __pthread_rwlock_rdlock@GLIBC_2.2.5");
__asm__(".symver glibc_rwlock_wrlock, __pthread_rwlock_wrlock@GLIBC_2.2.5");
extern int glibc_mutex_lock(pthread_mutex_t *);
extern int glibc_rwlock_rdlock(pthread_rwlock_t *);
extern int glibc_rwlock_wrlock(pthread_rwlock_t *);

int pthread_mutex_lock(pthread_mutex_t *m) {
    __atomic_fetch_add(&locks, 1, __ATOMIC_RELAXED);
    return glibc_mutex_lock(m);
}
int pthread_rwlock_rdlock(pthread_rwlock_t *l) {
    __atomic_fetch_add(&locks, 1, __ATOMIC_RELAXED);
    return glibc_rwlock_rdlock(l);
}
int pthread_rwlock_wrlock(pthread_rwlock_t *l) {
    __atomic_fetch_add(&locks, 1, __ATOMIC_RELAXED);
    return glibc_rwlock_wrlock(l);
}

static inline void count(void) { __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED); }

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
void *valloc(size_t n) { count(); return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), n); }
void *pvalloc(size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    count();
    return __libc_memalign(page, (n + page - 1) / page * page);
}
int posix_memalign(void **out, size_t a, size_t n) {
    if (a < sizeof(void *) || (a & (a - 1)) != 0) return EINVAL;
    count();
    void *p = __libc_memalign(a, n);
    if (p == NULL && n != 0) return ENOMEM;
    *out = p;
    return 0;
}

static void *reporter(void *path) {
    int fd = open((const char *)path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return NULL;
    char line[64];
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (;;) {
        int len = snprintf(line, sizeof line, "%020llu %020llu\n",
                           (unsigned long long)__atomic_load_n(&allocations, __ATOMIC_RELAXED),
                           (unsigned long long)__atomic_load_n(&locks, __ATOMIC_RELAXED));
        if (pwrite(fd, line, (size_t)len, 0) < 0) break;
        nanosleep(&pause, NULL);
    }
    close(fd);
    return NULL;
}

__attribute__((constructor)) static void start_reporter(void) {
    const char *path = getenv("ALLOCCOUNT_FILE");
    if (path == NULL || *path == '\0') return;
    static char copy[4096];
    strncpy(copy, path, sizeof copy - 1);
    pthread_t thread;
    if (pthread_create(&thread, NULL, reporter, copy) == 0) pthread_detach(thread);
}
