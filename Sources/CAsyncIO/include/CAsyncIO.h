// CAsyncIO: the only place where swift-aio touches kernel UAPI structures and raw syscalls.
//
// Every symbol carries the CAsyncIO_ prefix. Functions here are 1:1 wrappers: they return
// the raw syscall result (-1 with errno set) and hold no logic. Swift cannot call the
// variadic syscall(), nor see macros such as O_DIRECT, so both are wrapped here.
#ifndef CASYNCIO_H
#define CASYNCIO_H

#include <stdint.h>
#include <stddef.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <linux/aio_abi.h>
#include <linux/io_uring.h>
#include <linux/time_types.h>

// ---------------------------------------------------------------------------------------
// Constants Swift cannot import from macros (defined in shim.c).
extern const int CAsyncIO_O_DIRECT;
extern const int CAsyncIO_O_NOFOLLOW;
extern const int CAsyncIO_O_CLOEXEC;
extern const int CAsyncIO_MADV_HUGEPAGE;
extern const int CAsyncIO_MADV_NOHUGEPAGE;
/// MADV_POPULATE_WRITE (Linux 5.14): fault a range in, writable, in one call.
extern const int CAsyncIO_MADV_POPULATE_WRITE;
extern const unsigned long CAsyncIO_BLKSSZGET;
extern const int CAsyncIO_FADV_DONTNEED;
extern const int CAsyncIO_RLIMIT_MEMLOCK;

// ---------------------------------------------------------------------------------------
// errno access without going through Glibc's thread-local macro in Swift.
static inline int CAsyncIO_errno(void) { return errno; }
static inline void CAsyncIO_set_errno(int value) { errno = value; }

// syncfs(2): flush the file system holding fd (glibc declares it only under _GNU_SOURCE).
static inline int CAsyncIO_syncfs(int fd) { return (int)syscall(SYS_syncfs, fd); }

// mremap(2) with MREMAP_MAYMOVE | MREMAP_FIXED (1 | 2 in <linux/mman.h>): moves the pages of
// [old, old + size) to new_address (glibc's mremap is variadic, which Swift cannot call).
static inline void *CAsyncIO_mremap_fixed(void *old_address, size_t size, void *new_address) {
    return (void *)syscall(SYS_mremap, old_address, size, size, 1 | 2, new_address);
}

// ---------------------------------------------------------------------------------------
// Kernel AIO (the interface libaio wraps), raw syscalls. No link against libaio.
static inline int CAsyncIO_io_setup(unsigned nr_events, aio_context_t *ctx) {
    return (int)syscall(__NR_io_setup, nr_events, ctx);
}
static inline int CAsyncIO_io_destroy(aio_context_t ctx) {
    return (int)syscall(__NR_io_destroy, ctx);
}
/// io_destroy on a detached thread of its own, for a context with no request in flight: the call
/// waits for an RCU grace period (30-50 ms on a small VM), which the caller need not wait for.
/// Falls back to a plain io_destroy when no thread can be started.
int CAsyncIO_io_destroy_detached(aio_context_t ctx);
/// How many detached io_destroy calls have not returned yet (a context counts in fs.aio-nr until
/// its io_destroy has begun).
int CAsyncIO_io_destroys_pending(void);
/// Tests only: makes each later detached io_destroy sleep this long before it begins (0: none).
void CAsyncIO_io_destroy_detached_delay(unsigned microseconds);
static inline long CAsyncIO_io_submit(aio_context_t ctx, long nr, struct iocb **iocbpp) {
    return syscall(__NR_io_submit, ctx, nr, iocbpp);
}
static inline long CAsyncIO_io_getevents(aio_context_t ctx, long min_nr, long nr,
                                         struct io_event *events, struct timespec *timeout) {
    return syscall(__NR_io_getevents, ctx, min_nr, nr, events, timeout);
}

/// io_cancel(2): asks the kernel to cancel one in-flight iocb. Regular files have no cancel
/// method, so the kernel usually answers EINVAL; the request then completes normally.
static inline int CAsyncIO_io_cancel(aio_context_t ctx, struct iocb *cb, struct io_event *result) {
    return (int)syscall(__NR_io_cancel, ctx, cb, result);
}

/// Fills one iocb for a pread/pwrite (IOCB_CMD_PREAD / IOCB_CMD_PWRITE) request.
static inline void CAsyncIO_iocb_prep(struct iocb *cb, uint16_t opcode, int fd, void *buf,
                                      uint64_t nbytes, int64_t offset, uint64_t data) {
    __builtin_memset(cb, 0, sizeof(*cb));
    cb->aio_lio_opcode = opcode;
    cb->aio_fildes = (uint32_t)fd;
    cb->aio_buf = (uint64_t)(uintptr_t)buf;
    cb->aio_nbytes = nbytes;
    cb->aio_offset = offset;
    cb->aio_data = data;
}

/// Fills one iocb for a one-shot IOCB_CMD_POLL of `events` on `fd` (Linux 4.18+; a worker's
/// wake-up eventfd): it completes with the ready events once `fd` is readable.
static inline void CAsyncIO_iocb_prep_poll(struct iocb *cb, int fd, uint32_t events, uint64_t data) {
    __builtin_memset(cb, 0, sizeof(*cb));
    cb->aio_lio_opcode = IOCB_CMD_POLL;
    cb->aio_fildes = (uint32_t)fd;
    cb->aio_buf = events;
    cb->aio_data = data;
}

// ---------------------------------------------------------------------------------------
// io_uring, raw syscalls. No link against liburing.
static inline int CAsyncIO_io_uring_setup(unsigned entries, struct io_uring_params *p) {
    return (int)syscall(__NR_io_uring_setup, entries, p);
}
static inline int CAsyncIO_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete,
                                          unsigned flags) {
    return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}
static inline int CAsyncIO_io_uring_register(int fd, unsigned opcode, const void *arg,
                                             unsigned nr_args) {
    return (int)syscall(__NR_io_uring_register, fd, opcode, arg, nr_args);
}

/// Fills one SQE for a read or write (plain or fixed-buffer). The sqe's unions make its
/// fields awkward to reach from Swift, hence this helper.
static inline void CAsyncIO_sqe_prep_rw(struct io_uring_sqe *sqe, uint8_t opcode, int fd,
                                        const void *addr, uint32_t len, uint64_t offset,
                                        uint64_t user_data, uint16_t buf_index, uint8_t flags) {
    __builtin_memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = opcode;
    sqe->flags = flags;
    sqe->fd = fd;
    sqe->off = offset;
    sqe->addr = (uint64_t)(uintptr_t)addr;
    sqe->len = len;
    sqe->buf_index = buf_index;
    sqe->user_data = user_data;
}

/// Fills one SQE for IORING_OP_ASYNC_CANCEL of the request whose user_data is `target`.
static inline void CAsyncIO_sqe_prep_cancel(struct io_uring_sqe *sqe, uint64_t target, uint64_t user_data) {
    __builtin_memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->fd = -1;
    sqe->addr = target;
    sqe->user_data = user_data;
}

/// Fills one SQE for a one-shot IORING_OP_POLL_ADD of `events` on `fd` (a worker's wake-up eventfd).
static inline void CAsyncIO_sqe_prep_poll(struct io_uring_sqe *sqe, int fd, uint32_t events, uint64_t user_data) {
    __builtin_memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = fd;
    sqe->poll32_events = events;
    sqe->user_data = user_data;
}

/// A non-blocking, close-on-exec eventfd, or -1 with errno set.
static inline int CAsyncIO_eventfd(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}
/// Adds 1 to an eventfd's counter (best effort: a full counter is already readable).
static inline void CAsyncIO_eventfd_signal(int fd) {
    eventfd_t one = 1;
    (void)eventfd_write(fd, one);
}
/// Reads and so resets an eventfd's counter (nothing to read is fine).
static inline void CAsyncIO_eventfd_drain(int fd) {
    eventfd_t value;
    (void)eventfd_read(fd, &value);
}

// Ring indices are shared with the kernel: read them with acquire, publish with release.
static inline uint32_t CAsyncIO_load_acquire(const uint32_t *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void CAsyncIO_store_release(uint32_t *p, uint32_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline uint32_t CAsyncIO_load_relaxed(const uint32_t *p) {
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
/// Full barrier, needed between publishing the SQ tail and reading the SQPOLL wake-up flag.
static inline void CAsyncIO_fence_seq_cst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// ---------------------------------------------------------------------------------------
// statx with STATX_DIOALIGN (kernel 6.1+). Returns 0 and the two alignments, or -1/errno;
// both alignments are 0 when the file system does not support direct I/O or does not say.
int CAsyncIO_dio_align(int fd, uint32_t *mem_align, uint32_t *offset_align);

/// fallocate(2) with mode 0: allocate (as unwritten extents) and extend the size; no zero-filling fallback.
static inline int CAsyncIO_fallocate(int fd, int64_t offset, int64_t length) {
    return (int)syscall(__NR_fallocate, fd, 0, offset, length);
}

/// ioctl(BLKSSZGET) on a block device descriptor.
int CAsyncIO_blkssz(int fd, int *size);

/// pipe2(2) (a GNU extension Swift does not see): both descriptors with `flags` (O_CLOEXEC).
static inline int CAsyncIO_pipe2(int fds[2], int flags) {
    return (int)syscall(__NR_pipe2, fds, flags);
}

/// statfs(2)'s f_type (the file system's magic number) of the file system holding `path`.
int CAsyncIO_fs_type(const char *path, int64_t *type);

#include <pthread.h>
/// pthread_setname_np (a GNU extension Swift does not see).
int CAsyncIO_set_thread_name(pthread_t thread, const char *name);

#endif
