/* br-testclient: UDP socket, bounded waits and STUN transactions with
 * retransmission (RFC 8489 6.2.1). */
#include "tc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TC_RTO_MS 250
#define TC_MAX_SENDS 6

uint64_t tc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void tc_log(const struct tc_opts *o, const char *fmt, ...)
{
    va_list ap;

    if (!o->verbose) {
        return;
    }
    va_start(ap, fmt);
    fputs("br-testclient: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *tc_addr_str(const union turn_addr *a, char *buf, size_t size)
{
    if (a->sa.sa_family == 0) {
        snprintf(buf, size, "none");
        return buf;
    }
    return turn_addr_format(a, buf, size);
}

int tc_sock_open(struct tc_sock *s, const union turn_addr *server, const union turn_addr *local,
                 uint64_t deadline_ms)
{
    socklen_t len = sizeof(s->local);
    int err = 0;

    memset(s, 0, sizeof(*s));
    s->server = *server;
    s->deadline_ms = deadline_ms;
    s->fd = socket(server->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        return -errno;
    }
    if (local && local->sa.sa_family != 0 && bind(s->fd, &local->sa, turn_addr_len(local)) < 0) {
        err = -errno;
        goto out;
    }
    if (connect(s->fd, &server->sa, turn_addr_len(server)) < 0 ||
        getsockname(s->fd, &s->local.sa, &len) < 0) {
        err = -errno;
        goto out;
    }
out:
    if (err) {
        close(s->fd);
        s->fd = -1;
    }
    return err;
}

void tc_sock_close(struct tc_sock *s)
{
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

int tc_recv(int fd, uint8_t *buf, size_t cap, union turn_addr *from, unsigned wait_ms,
            uint64_t deadline_ms)
{
    uint64_t now = tc_now_ms();
    uint64_t until = now + wait_ms < deadline_ms ? now + wait_ms : deadline_ms;

    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        socklen_t flen = sizeof(*from);
        ssize_t n;
        int r;

        now = tc_now_ms();
        if (now >= until) {
            return 0;
        }
        r = poll(&pfd, 1, (int)(until - now));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return -errno;
        }
        if (r == 0) {
            return 0;
        }
        memset(from, 0, sizeof(*from));
        n = recvfrom(fd, buf, cap, 0, &from->sa, &flen);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n < 0) {
            /* ECONNREFUSED from an ICMP port unreachable: no server yet. */
            return -errno;
        }
        if (n == 0) {
            continue; /* an empty datagram is nothing we wait for */
        }
        return (int)n;
    }
}

/* Waits up to wait_ms for the response to tid; 1 found, 0 timeout, <0 error
 * (-EBADMSG: an error response without a valid ERROR-CODE). */
static int tc_await(struct tc_sock *s, const uint8_t *tid, struct tc_resp *resp, unsigned wait_ms)
{
    uint64_t until = tc_now_ms() + wait_ms;

    for (;;) {
        union turn_addr from;
        uint64_t now = tc_now_ms();
        int n, r;

        if (now >= until) {
            return 0;
        }
        n = tc_recv(s->fd, resp->buf, sizeof(resp->buf), &from, (unsigned)(until - now),
                    s->deadline_ms);
        if (n == -ECONNREFUSED) {
            continue; /* retransmission will try again */
        }
        if (n <= 0) {
            return n;
        }
        r = tcl_resp_parse(&resp->msg, resp->buf, (size_t)n, tid, &resp->code);
        if (r != -ENOMSG) {
            return r == 0 ? 1 : r;
        }
    }
}

int tc_transact(struct tc_sock *s, const uint8_t *req, size_t len, struct tc_resp *resp)
{
    unsigned rto = TC_RTO_MS;
    const uint8_t *tid = req + 8;

    for (int sends = 0; sends < TC_MAX_SENDS; sends++) {
        int r;

        if (tc_now_ms() >= s->deadline_ms) {
            break;
        }
        if (send(s->fd, req, len, 0) < 0 && errno != ECONNREFUSED) {
            return -errno;
        }
        r = tc_await(s, tid, resp, rto);
        if (r < 0) {
            return r;
        }
        if (r == 1) {
            return 0;
        }
        rto *= 2;
    }
    return -ETIMEDOUT;
}
