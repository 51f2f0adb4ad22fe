// Values and wrappers Swift cannot import directly; struct layout checks.
#define _GNU_SOURCE
#include "CAsyncIO.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/fs.h>
#include <linux/stat.h>

const int CAsyncIO_O_DIRECT = O_DIRECT;
const int CAsyncIO_O_NOFOLLOW = O_NOFOLLOW;
const int CAsyncIO_O_CLOEXEC = O_CLOEXEC;
const int CAsyncIO_MADV_HUGEPAGE = MADV_HUGEPAGE;
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
const int CAsyncIO_MADV_POPULATE_WRITE = MADV_POPULATE_WRITE;
const int CAsyncIO_MADV_NOHUGEPAGE = MADV_NOHUGEPAGE;
const unsigned long CAsyncIO_BLKSSZGET = BLKSSZGET;
const int CAsyncIO_FADV_DONTNEED = POSIX_FADV_DONTNEED;
const int CAsyncIO_RLIMIT_MEMLOCK = RLIMIT_MEMLOCK;

_Static_assert(sizeof(struct iocb) == 64, "struct iocb is 64 bytes in the kernel ABI");
_Static_assert(sizeof(struct io_event) == 32, "struct io_event is 32 bytes in the kernel ABI");
_Static_assert(sizeof(struct io_uring_sqe) == 64, "struct io_uring_sqe is 64 bytes");
_Static_assert(sizeof(struct io_uring_cqe) == 16, "struct io_uring_cqe is 16 bytes");

#ifndef STATX_DIOALIGN
#define STATX_DIOALIGN 0x00002000U
#endif

int CAsyncIO_dio_align(int fd, uint32_t *mem_align, uint32_t *offset_align) {
    struct statx stx;
    __builtin_memset(&stx, 0, sizeof(stx));
    long rc = syscall(__NR_statx, fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx);
    if (rc < 0) return -1;
    if (stx.stx_mask & STATX_DIOALIGN) {
        *mem_align = stx.stx_dio_mem_align;
        *offset_align = stx.stx_dio_offset_align;
    } else {
        *mem_align = 0;
        *offset_align = 0;
    }
    return 0;
}

int CAsyncIO_blkssz(int fd, int *size) {
    return ioctl(fd, BLKSSZGET, size);
}

int CAsyncIO_set_thread_name(pthread_t thread, const char *name) {
    return pthread_setname_np(thread, name);
}

#include <sys/vfs.h>

int CAsyncIO_fs_type(const char *path, int64_t *type) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    *type = (int64_t)info.f_type;
    return 0;
}

// ---------------------------------------------------------------------------------------
// Kernel AIO contexts destroyed off the caller's thread (see CAsyncIO.h).

static int destroys_pending;  // accessed with __atomic builtins only
static unsigned destroy_delay_us;  // tests only; accessed with __atomic builtins only

static void *destroy_context(void *arg) {
    unsigned delay = __atomic_load_n(&destroy_delay_us, __ATOMIC_RELAXED);
    if (delay > 0) usleep(delay);
    syscall(__NR_io_destroy, (aio_context_t)(uintptr_t)arg);
    __atomic_fetch_sub(&destroys_pending, 1, __ATOMIC_RELEASE);
    return NULL;
}

int CAsyncIO_io_destroy_detached(aio_context_t ctx) {
    pthread_attr_t attr;
    pthread_t thread;
    __atomic_fetch_add(&destroys_pending, 1, __ATOMIC_RELAXED);
    if (pthread_attr_init(&attr) == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        int rc = pthread_create(&thread, &attr, destroy_context, (void *)(uintptr_t)ctx);
        pthread_attr_destroy(&attr);
        if (rc == 0) return 0;
    }
    __atomic_fetch_sub(&destroys_pending, 1, __ATOMIC_RELAXED);
    return (int)syscall(__NR_io_destroy, ctx);
}

int CAsyncIO_io_destroys_pending(void) {
    return __atomic_load_n(&destroys_pending, __ATOMIC_ACQUIRE);
}

void CAsyncIO_io_destroy_detached_delay(unsigned microseconds) {
    __atomic_store_n(&destroy_delay_us, microseconds, __ATOMIC_RELAXED);
}
