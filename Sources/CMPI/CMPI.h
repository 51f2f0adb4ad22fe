// Open MPI's C API for Swift: `static inline` wrappers for what Swift cannot import. In Open MPI,
// MPI_COMM_WORLD, MPI_BYTE, MPI_INT64_T, MPI_DOUBLE and MPI_MAX are macros that cast the address of an
// opaque global, which the Clang importer drops. Every wrapper works on MPI_COMM_WORLD; none holds logic.
#ifndef CMPI_H
#define CMPI_H

#include <mpi.h>
#include <stdint.h>

/// MPI_SUCCESS.
static inline int CMPI_success(void) { return MPI_SUCCESS; }
/// MPI_THREAD_SERIALIZED: any thread may call MPI, one at a time.
static inline int CMPI_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
/// The longest host name MPI_Get_processor_name writes.
static inline int CMPI_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }

/// MPI_Init_thread without argc/argv.
static inline int CMPI_init(int required, int *provided) {
    return MPI_Init_thread(NULL, NULL, required, provided);
}
/// MPI_Initialized.
static inline int CMPI_initialized(int *flag) { return MPI_Initialized(flag); }
/// MPI_Finalized.
static inline int CMPI_finalized(int *flag) { return MPI_Finalized(flag); }
/// MPI_Finalize.
static inline int CMPI_finalize(void) { return MPI_Finalize(); }
/// MPI_Comm_rank of MPI_COMM_WORLD.
static inline int CMPI_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }
/// MPI_Comm_size of MPI_COMM_WORLD.
static inline int CMPI_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }
/// MPI_Get_processor_name (`name` holds CMPI_max_processor_name() bytes).
static inline int CMPI_processor_name(char *name, int *length) { return MPI_Get_processor_name(name, length); }
/// MPI_Barrier on MPI_COMM_WORLD.
static inline int CMPI_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
/// MPI_Bcast of `count` bytes from `root`.
static inline int CMPI_bcast_bytes(void *buffer, int count, int root) {
    return MPI_Bcast(buffer, count, MPI_BYTE, root, MPI_COMM_WORLD);
}
/// MPI_Allgather of one int64 per rank.
static inline int CMPI_allgather_int64(const int64_t *value, int64_t *all) {
    return MPI_Allgather(value, 1, MPI_INT64_T, all, 1, MPI_INT64_T, MPI_COMM_WORLD);
}
/// MPI_Allgatherv of bytes: rank r's `counts[r]` bytes land at `displacements[r]` of `all`.
static inline int CMPI_allgatherv_bytes(const void *bytes, int count, void *all, const int *counts,
                                        const int *displacements) {
    return MPI_Allgatherv(bytes, count, MPI_BYTE, all, counts, displacements, MPI_BYTE, MPI_COMM_WORLD);
}
/// MPI_Allreduce with MPI_MAX of one int64.
static inline int CMPI_allreduce_max_int64(const int64_t *value, int64_t *result) {
    return MPI_Allreduce(value, result, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
}
/// MPI_Allreduce with MPI_MAX of one double.
static inline int CMPI_allreduce_max_double(const double *value, double *result) {
    return MPI_Allreduce(value, result, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
}
/// MPI_Allreduce with MPI_SUM of one double.
static inline int CMPI_allreduce_sum_double(const double *value, double *result) {
    return MPI_Allreduce(value, result, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
/// MPI_Abort of MPI_COMM_WORLD: ends every rank of the job.
static inline int CMPI_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }

#endif
