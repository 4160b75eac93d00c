// C shim for what Swift's Glibc module lacks (it is built without _GNU_SOURCE), plus CRC32C.
// Every wrapper returns what the underlying call returns and leaves errno as the call set it.
#ifndef C_SLUICE_SHIM_H
#define C_SLUICE_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// accept4(2) with SOCK_NONBLOCK? no: with SOCK_CLOEXEC only (connections use blocking I/O on threads).
int sluice_accept_cloexec(int fd);
/// fallocate(2) with mode 0.
int sluice_fallocate(int fd, off_t offset, off_t length);
/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE (start write-back, do not wait).
int sluice_sync_file_range_write(int fd, off_t offset, off_t length);
/// sendfile(2): copies `count` bytes from `in_fd` at `*offset` to `out_fd`.
ssize_t sluice_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);
/// Sets TCP_NODELAY on a socket.
int sluice_set_nodelay(int fd);
/// Sets SO_RCVTIMEO (0 disables) in milliseconds.
int sluice_set_receive_timeout_ms(int fd, uint32_t milliseconds);
/// Sets SO_SNDTIMEO (0 disables) in milliseconds.
int sluice_set_send_timeout_ms(int fd, uint32_t milliseconds);
/// Sets SO_SNDBUF and SO_RCVBUF (0 leaves them).
int sluice_set_socket_buffers(int fd, int bytes);
/// Ignores SIGPIPE for the whole process: a reset peer must not kill a server.
void sluice_ignore_sigpipe(void);
/// mallopt(M_MMAP_THRESHOLD, bytes) on glibc: allocations of at least `bytes` get their own mapping, returned to the
/// kernel when freed, and the threshold no longer adapts. Returns 1 when set, 0 when refused or not on glibc.
int sluice_set_malloc_mmap_threshold(int bytes);

/// CRC32C (Castagnoli) of `length` bytes, continuing from `crc` (0 to start). Uses SSE4.2 when the CPU has it.
uint32_t sluice_crc32c(uint32_t crc, const void *data, size_t length);
/// 1 when the hardware CRC32C path is in use.
int sluice_crc32c_is_hardware(void);
/// Same as `sluice_crc32c` but always the portable table path (for tests and comparisons).
uint32_t sluice_crc32c_software(uint32_t crc, const void *data, size_t length);

#endif
