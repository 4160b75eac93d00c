#define _GNU_SOURCE
#include "CSluiceShim.h"

#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>

int sluice_accept_cloexec(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC); }

int sluice_fallocate(int fd, off_t offset, off_t length) { return fallocate(fd, 0, offset, length); }

int sluice_sync_file_range_write(int fd, off_t offset, off_t length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}

ssize_t sluice_sendfile(int out_fd, int in_fd, off_t *offset, size_t count) {
    return sendfile(out_fd, in_fd, offset, count);
}

int sluice_set_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int set_timeout(int fd, int option, uint32_t milliseconds) {
    struct timeval tv;
    tv.tv_sec = milliseconds / 1000;
    tv.tv_usec = (milliseconds % 1000) * 1000;
    return setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

int sluice_set_receive_timeout_ms(int fd, uint32_t milliseconds) { return set_timeout(fd, SO_RCVTIMEO, milliseconds); }
int sluice_set_send_timeout_ms(int fd, uint32_t milliseconds) { return set_timeout(fd, SO_SNDTIMEO, milliseconds); }

int sluice_set_socket_buffers(int fd, int bytes) {
    if (bytes <= 0) return 0;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0) return -1;
    return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

void sluice_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int sluice_set_malloc_mmap_threshold(int bytes) {
#ifdef __GLIBC__
    return mallopt(M_MMAP_THRESHOLD, bytes);
#else
    (void)bytes;
    return 0;
#endif
}
