/* udp-forwarder: the ceiling for blindrelay-bench. It moves each datagram
 * through the same number of kernel hops as a TURN server relaying
 * relay-to-relay, with none of the protocol work, so that
 * "server pps / forwarder pps" says how close a server comes to what this
 * machine allows.
 *
 * What a TURN server does per relayed packet (2 recv + 2 send):
 *   client A --> listen socket (recv 1) --> A's relay socket (send 1)
 *            --> B's relay socket (recv 2) --> listen socket (send 2) --> client B
 * What this forwarder does, with the same counts:
 *   client A --> F (recv 1) --> X (send 1, to Y) --> Y (recv 2)
 *            --> F (send 2, to client B)
 * F is the front socket clients talk to; X and Y are a connected pair of
 * loopback sockets standing in for the two relay sockets. Batches of up to
 * 64 datagrams are read with recvmmsg and sent with sendmmsg from the same
 * buffers (no copy). One thread, level-triggered epoll.
 *
 * Frames carry a 4-byte header instead of ChannelData's (same size):
 *   +--------+--------+-----------------+
 *   |  type  |   0    |   id (16 bits)  |  payload (SRTP) ...
 *   +--------+--------+-----------------+
 *   type 1: register: the sender is client `id`; echoed back as the ack.
 *   type 2: data for client `id`; delivered with the header unchanged.
 * Loopback only; the table holds 65536 clients; bounded by --duration. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "turn/addr.h"

#define FW_BATCH 64
#define FW_BUF 2048
#define FW_CLIENTS 65536
#define FW_SOCKBUF (8 * 1024 * 1024)

struct fw {
    int f, x, y, ep;
    union turn_addr *table; /* id -> client address */
    uint8_t (*buf)[FW_BUF];
    struct mmsghdr m[FW_BATCH];
    struct iovec iov[FW_BATCH];
    union turn_addr from[FW_BATCH];
    uint64_t forwarded, registered, dropped;
};

static volatile sig_atomic_t fw_stop;

static void fw_on_signal(int sig)
{
    fw_stop = sig;
}

static int fw_socket(const union turn_addr *bind_to)
{
    int fd = socket(bind_to->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int v = FW_SOCKBUF;

    if (fd < 0) {
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
    }
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
    }
    if (bind(fd, &bind_to->sa, turn_addr_len(bind_to)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* X and Y: two sockets on the listen address's host, connected to each other. */
static int fw_inner_pair(struct fw *fw, const union turn_addr *listen)
{
    union turn_addr a = *listen, b;
    socklen_t len = sizeof(b);

    turn_addr_set_port(&a, 0);
    fw->x = fw_socket(&a);
    fw->y = fw_socket(&a);
    if (fw->x < 0 || fw->y < 0 || getsockname(fw->y, &b.sa, &len) != 0 ||
        connect(fw->x, &b.sa, len) != 0) {
        return -1;
    }
    len = sizeof(a);
    if (getsockname(fw->x, &a.sa, &len) != 0 || connect(fw->y, &a.sa, len) != 0) {
        return -1;
    }
    return 0;
}

static int fw_recv(struct fw *fw, int fd)
{
    memset(fw->m, 0, sizeof(fw->m));
    for (unsigned i = 0; i < FW_BATCH; i++) {
        fw->iov[i].iov_base = fw->buf[i];
        fw->iov[i].iov_len = FW_BUF;
        fw->m[i].msg_hdr.msg_iov = &fw->iov[i];
        fw->m[i].msg_hdr.msg_iovlen = 1;
        fw->m[i].msg_hdr.msg_name = &fw->from[i];
        fw->m[i].msg_hdr.msg_namelen = sizeof(fw->from[i]);
    }
    return recvmmsg(fd, fw->m, FW_BATCH, MSG_DONTWAIT, NULL);
}

/* Sends the n prepared messages of fw->m (compacted) on fd. */
static void fw_send(struct fw *fw, int fd, unsigned n)
{
    unsigned done = 0;

    while (done < n) {
        int r = sendmmsg(fd, fw->m + done, n - done, 0);

        if (r <= 0) {
            fw->dropped += n - done;
            return;
        }
        done += (unsigned)r;
    }
}

/* Hop 1: from clients on F, to Y through X. Registrations are answered. */
static int fw_front(struct fw *fw)
{
    int n = fw_recv(fw, fw->f);
    unsigned out = 0;

    for (int i = 0; i < n; i++) {
        uint8_t *p = fw->buf[i];
        unsigned len = fw->m[i].msg_len;

        if (len >= 4 && p[0] == 1) {
            fw->table[p[2] << 8 | p[3]] = fw->from[i];
            fw->registered++;
            sendto(fw->f, p, 4, 0, &fw->from[i].sa, turn_addr_len(&fw->from[i]));
        } else if (len >= 4 && p[0] == 2) {
            fw->iov[out].iov_base = p;
            fw->iov[out].iov_len = len;
            fw->m[out].msg_hdr = (struct msghdr){.msg_iov = &fw->iov[out], .msg_iovlen = 1};
            out++;
        } else {
            fw->dropped++;
        }
    }
    fw_send(fw, fw->x, out);
    return n;
}

/* Hop 2: from Y, to the client the header names, through F. */
static int fw_back(struct fw *fw)
{
    int n = fw_recv(fw, fw->y);
    unsigned out = 0;

    for (int i = 0; i < n; i++) {
        uint8_t *p = fw->buf[i];
        union turn_addr *to = &fw->table[p[2] << 8 | p[3]];

        if (to->sa.sa_family == 0) {
            fw->dropped++;
            continue;
        }
        fw->iov[out].iov_base = p;
        fw->iov[out].iov_len = fw->m[i].msg_len;
        fw->m[out].msg_hdr = (struct msghdr){.msg_iov = &fw->iov[out],
                                             .msg_iovlen = 1,
                                             .msg_name = to,
                                             .msg_namelen = turn_addr_len(to)};
        out++;
    }
    fw_send(fw, fw->f, out);
    fw->forwarded += out;
    return n;
}

static int fw_setup(struct fw *fw, const union turn_addr *listen)
{
    struct epoll_event ev = {.events = EPOLLIN};

    fw->table = calloc(FW_CLIENTS, sizeof(*fw->table));
    fw->buf = calloc(FW_BATCH, FW_BUF);
    fw->ep = epoll_create1(EPOLL_CLOEXEC);
    fw->f = fw_socket(listen);
    if (!fw->table || !fw->buf || fw->ep < 0 || fw->f < 0 || fw_inner_pair(fw, listen) != 0) {
        return -1;
    }
    ev.data.fd = fw->f;
    epoll_ctl(fw->ep, EPOLL_CTL_ADD, fw->f, &ev);
    ev.data.fd = fw->y;
    return epoll_ctl(fw->ep, EPOLL_CTL_ADD, fw->y, &ev);
}

static void fw_free(struct fw *fw)
{
    int fds[] = {fw->f, fw->x, fw->y, fw->ep};

    for (unsigned i = 0; i < 4; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    free(fw->table);
    free(fw->buf);
}

static void fw_run(struct fw *fw, double secs)
{
    struct timespec ts;
    double end;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    end = secs > 0 ? (double)ts.tv_sec + secs : 1e18;
    while (!fw_stop && (double)ts.tv_sec < end) {
        struct epoll_event ev[2];
        int n = epoll_wait(fw->ep, ev, 2, 200);

        for (int i = 0; i < n; i++) {
            /* drain a little from each side in turn so neither starves */
            for (int round = 0; round < 4; round++) {
                if ((ev[i].data.fd == fw->f ? fw_front(fw) : fw_back(fw)) < FW_BATCH) {
                    break;
                }
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
    }
}

static int fw_args(int argc, char **argv, union turn_addr *listen, double *secs)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            if (turn_addr_parse(listen, argv[++i], 0) != 0 || turn_addr_port(listen) == 0) {
                return -1;
            }
        } else if (strcmp(argv[i], "--duration") == 0 && i + 1 < argc) {
            *secs = atof(argv[++i]);
        } else {
            return -1;
        }
    }
    return listen->sa.sa_family && *secs >= 0 && *secs <= 86400 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct fw fw = {.f = -1, .x = -1, .y = -1, .ep = -1};
    union turn_addr listen = {0};
    double secs = 0;
    struct sigaction sa = {.sa_handler = fw_on_signal};
    bool loop;

    if (fw_args(argc, argv, &listen, &secs) != 0) {
        fprintf(stderr, "usage: udp-forwarder --listen IP:PORT [--duration SECONDS]\n"
                        "  (loopback only; 0 or no duration: until SIGINT/SIGTERM)\n");
        return 2;
    }
    loop = listen.sa.sa_family == AF_INET ? (ntohl(listen.in4.sin_addr.s_addr) >> 24) == 127
                                          : IN6_IS_ADDR_LOOPBACK(&listen.in6.sin6_addr);
    if (!loop) {
        fprintf(stderr, "udp-forwarder: refusing a non-loopback listen address\n");
        return 2;
    }
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (fw_setup(&fw, &listen) != 0) {
        fprintf(stderr, "udp-forwarder: setup failed: %s\n", strerror(errno));
        fw_free(&fw);
        return 1;
    }
    fprintf(stderr, "udp-forwarder: listening\n");
    fw_run(&fw, secs);
    printf("forwarded=%llu registered=%llu dropped=%llu\n", (unsigned long long)fw.forwarded,
           (unsigned long long)fw.registered, (unsigned long long)fw.dropped);
    fw_free(&fw);
    return 0;
}
