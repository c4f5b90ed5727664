/* blindrelay-bench: the flooder of flood mode, a thread of its own. It
 * sends, as fast as its core allows (or at --flood-rate), a mix of four
 * kinds of datagram a relay on the open internet receives from strangers:
 * garbage, unauthenticated Allocates, Bindings and ChannelData for channels
 * nobody bound. Each datagram leaves from a random source address in
 * 127.1.0.0-127.254.255.255 (IP_PKTINFO), so the server sees about 16
 * million addresses in 65,000 /24s; --flood-ports sockets give the ports.
 * The sockets are bound to the wildcard address so that the answers to
 * every source come back to them and are counted by STUN method. Traffic
 * goes to the loopback server only (the options refuse anything else).
 * The thread shares its core with the call pairs' thread at the same
 * priority (SCHED_IDLE starved it whenever another process wanted the core,
 * so two servers did not get the same flood); the calls' loss counts only
 * packets handed to the kernel, so slots the calls' thread misses (reported
 * as skipped) are not loss. */
#include "bench_load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "turn/frame.h"
#include "turn/stun_msg.h"

#define BC_FLOOD_PORT0 10000 /* below the benchmark's listening ports */
#define BC_FLOOD_PORT_END 20000
#define BC_FLOOD_PKT 256
#define BC_FLOOD_SOCKBUF (4 * 1024 * 1024)

enum bc_flood_kind { BC_FK_GARBAGE, BC_FK_ALLOCATE, BC_FK_BINDING, BC_FK_CHANNEL, BC_FK_N };

static const char *const bc_flood_kind_name[BC_FK_N] = {"garbage", "allocate", "binding",
                                                        "channel"};

struct bc_flooder {
    const struct bc_opts *o;
    pthread_t thread;
    bool started;
    atomic_bool stop_send; /* stop sending; keep counting answers */
    atomic_bool quit;
    int *fds;
    unsigned nfds;
    uint64_t rng;
    uint64_t t_start, t_end; /* the send window */
    /* written by the thread, read after the join */
    uint64_t sent[BC_FK_N], sent_bytes[BC_FK_N];
    uint64_t answers[BC_FK_N], answer_bytes[BC_FK_N]; /* by the method answered */
    uint64_t answers_other, send_fail;
    uint8_t pkt[BC_BATCH][BC_FLOOD_PKT];
    uint8_t rx[BC_BATCH][BC_PKT_BUF];
};

static uint64_t bc_rand(struct bc_flooder *f)
{
    /* xorshift64*: the flood needs speed, not secrecy */
    f->rng ^= f->rng >> 12;
    f->rng ^= f->rng << 25;
    f->rng ^= f->rng >> 27;
    return f->rng * 0x2545F4914F6CDD1Dull;
}

static size_t bc_flood_stun(struct bc_flooder *f, uint8_t *buf, uint16_t method)
{
    static const uint8_t udp[4] = {17, 0, 0, 0};
    struct stun_builder b;
    uint64_t r[2] = {bc_rand(f), bc_rand(f)};
    int len;

    stun_build_start(&b, buf, BC_FLOOD_PKT, method, STUN_REQUEST, (const uint8_t *)r);
    if (method == TURN_ALLOCATE) {
        stun_build_attr(&b, STUN_ATTR_REQUESTED_TRANSPORT, udp, sizeof(udp));
    }
    stun_build_fingerprint(&b);
    len = stun_build_finish(&b);
    return len > 0 ? (size_t)len : 0;
}

/* One datagram of a random kind into buf; returns its length. */
static size_t bc_flood_build(struct bc_flooder *f, uint8_t *buf, enum bc_flood_kind *kind)
{
    uint64_t r = bc_rand(f);
    size_t len;

    *kind = (enum bc_flood_kind)(r % BC_FK_N);
    switch (*kind) {
    case BC_FK_ALLOCATE:
        return bc_flood_stun(f, buf, TURN_ALLOCATE);
    case BC_FK_BINDING:
        return bc_flood_stun(f, buf, STUN_BINDING);
    case BC_FK_CHANNEL:
        len = 4 + (r >> 8) % 200; /* the size of an audio packet or so */
        memset(buf + 4, (int)(r >> 24), len - 4);
        turn_frame_channel(buf, (uint16_t)(0x4000u + (r >> 16) % 0x1000u), (uint16_t)(len - 4),
                           false);
        return len;
    default:
        len = 1 + (r >> 8) % 200;
        for (size_t i = 0; i < len; i += 8) {
            uint64_t x = bc_rand(f);

            memcpy(buf + i, &x, len - i < 8 ? len - i : 8);
        }
        return len;
    }
}

/* A random source in 127.1.0.0/16 - 127.254.0.0/16: never 127.0.x.x, where
 * the server and the call pairs are. */
static struct in_addr bc_flood_source(struct bc_flooder *f)
{
    uint64_t r = bc_rand(f);
    struct in_addr a;

    a.s_addr = htonl(0x7f000000u | (uint32_t)(1 + r % 254) << 16 |
                     (uint32_t)((r >> 8) & 0xff) << 8 | (uint32_t)(1 + (r >> 16) % 254));
    return a;
}

static void bc_flood_count(struct bc_flooder *f, const uint8_t *buf, size_t len)
{
    unsigned type, method;

    if (len < 20 || (buf[0] & 0xc0) != 0) {
        f->answers_other++;
        return;
    }
    type = (unsigned)buf[0] << 8 | buf[1];
    method = (type & 0x000f) | (type & 0x00e0) >> 1 | (type & 0x3e00) >> 2;
    if (method == TURN_ALLOCATE) {
        f->answers[BC_FK_ALLOCATE]++;
        f->answer_bytes[BC_FK_ALLOCATE] += len;
    } else if (method == STUN_BINDING) {
        f->answers[BC_FK_BINDING]++;
        f->answer_bytes[BC_FK_BINDING] += len;
    } else {
        f->answers_other++;
    }
}

static void bc_flood_drain(struct bc_flooder *f, int fd)
{
    struct mmsghdr m[BC_BATCH];
    struct iovec iov[BC_BATCH];

    for (;;) {
        int n;

        memset(m, 0, sizeof(m));
        for (unsigned i = 0; i < BC_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = f->rx[i], .iov_len = BC_PKT_BUF};
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
        }
        n = recvmmsg(fd, m, BC_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            return;
        }
        for (int i = 0; i < n; i++) {
            bc_flood_count(f, f->rx[i], m[i].msg_len);
        }
    }
}

/* One batch of k datagrams from socket fd, each from its own source. */
static void bc_flood_send(struct bc_flooder *f, int fd, unsigned k)
{
    struct mmsghdr m[BC_BATCH];
    struct iovec iov[BC_BATCH];
    enum bc_flood_kind kind[BC_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } ctl[BC_BATCH];
    int n;

    memset(m, 0, sizeof(m[0]) * k);
    memset(ctl, 0, sizeof(ctl[0]) * k);
    for (unsigned i = 0; i < k; i++) {
        struct cmsghdr *cm = &ctl[i].align;
        struct in_pktinfo pi = {.ipi_spec_dst = bc_flood_source(f)};

        iov[i] = (struct iovec){.iov_base = f->pkt[i],
                                .iov_len = bc_flood_build(f, f->pkt[i], &kind[i])};
        m[i].msg_hdr.msg_name = (void *)&f->o->server.in4;
        m[i].msg_hdr.msg_namelen = sizeof(f->o->server.in4);
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        m[i].msg_hdr.msg_control = ctl[i].buf;
        m[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
        cm->cmsg_level = IPPROTO_IP;
        cm->cmsg_type = IP_PKTINFO;
        cm->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
    }
    n = sendmmsg(fd, m, k, MSG_DONTWAIT);
    for (int i = 0; i < n; i++) {
        f->sent[kind[i]]++;
        f->sent_bytes[kind[i]] += iov[i].iov_len;
    }
    f->send_fail += k - (unsigned)(n > 0 ? n : 0);
}

static uint64_t bc_flood_total(const struct bc_flooder *f)
{
    uint64_t n = 0;

    for (unsigned k = 0; k < BC_FK_N; k++) {
        n += f->sent[k];
    }
    return n;
}

static void *bc_flood_main(void *arg)
{
    struct bc_flooder *f = arg;
    const struct bc_opts *o = f->o;
    unsigned s = 0;

    f->t_start = bc_now_ns();
    while (!atomic_load_explicit(&f->stop_send, memory_order_relaxed)) {
        uint64_t total = bc_flood_total(f) + f->send_fail, k = BC_BATCH;

        if (total >= o->flood_max) {
            break;
        }
        if (o->flood_rate) {
            uint64_t due = bc_pace_due(o->flood_rate, bc_now_ns() - f->t_start);

            k = due > total ? due - total : 0;
            k = k < BC_BATCH ? k : BC_BATCH;
        }
        k = k < o->flood_max - total ? k : o->flood_max - total;
        if (k == 0) {
            nanosleep(&(struct timespec){.tv_nsec = 500000}, NULL);
        } else {
            bc_flood_send(f, f->fds[s], (unsigned)k);
        }
        bc_flood_drain(f, f->fds[s]);
        s = (s + 1) % f->nfds;
    }
    f->t_end = bc_now_ns();
    /* answers still on their way: counted until told to quit */
    while (!atomic_load_explicit(&f->quit, memory_order_relaxed)) {
        for (unsigned i = 0; i < f->nfds; i++) {
            bc_flood_drain(f, f->fds[i]);
        }
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    for (unsigned i = 0; i < f->nfds; i++) {
        bc_flood_drain(f, f->fds[i]);
    }
    return NULL;
}

/* A wildcard-bound UDP socket on the next free port from *port. */
static int bc_flood_socket(uint16_t *port)
{
    int v = BC_FLOOD_SOCKBUF;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -errno;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
    }
    for (; *port < BC_FLOOD_PORT_END; (*port)++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(*port)};

        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
            (*port)++;
            return fd;
        }
    }
    close(fd);
    return -EADDRINUSE;
}

void bc_flooder_join(struct bc_flooder *f)
{
    if (f->started) {
        atomic_store(&f->stop_send, true);
        atomic_store(&f->quit, true);
        pthread_join(f->thread, NULL);
        f->started = false;
    }
}

void bc_flooder_free(struct bc_flooder *f)
{
    if (!f) {
        return;
    }
    bc_flooder_join(f);
    for (unsigned i = 0; i < f->nfds; i++) {
        close(f->fds[i]);
    }
    free(f->fds);
    free(f);
}

int bc_flooder_start(struct bc_flooder **out, const struct bc_opts *o)
{
    struct bc_flooder *f = calloc(1, sizeof(*f));
    uint16_t port = BC_FLOOD_PORT0;
    sigset_t all, old;
    int err = -ENOMEM;

    if (!f || !(f->fds = calloc(o->flood_ports, sizeof(int)))) {
        goto out;
    }
    f->o = o;
    if (getrandom(&f->rng, sizeof(f->rng), 0) != sizeof(f->rng) || f->rng == 0) {
        f->rng = 0x9e3779b97f4a7c15ull;
    }
    for (; f->nfds < o->flood_ports; f->nfds++) {
        int fd = bc_flood_socket(&port);

        if (fd < 0) {
            err = fd;
            goto out;
        }
        f->fds[f->nfds] = fd;
    }
    /* signals stay with the main thread, whose loop watches for them */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    err = -pthread_create(&f->thread, NULL, bc_flood_main, f);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    f->started = err == 0;
out:
    if (err) {
        bc_flooder_free(f);
        f = NULL;
    }
    *out = f;
    return err;
}

void bc_flooder_stop(struct bc_flooder *f)
{
    atomic_store(&f->stop_send, true);
}

/* Call after bc_flooder_join. */
void bc_flooder_report(const struct bc_flooder *f, struct bc_report *r)
{
    uint64_t total = bc_flood_total(f), bytes = 0, answers = f->answers_other, abytes = 0;
    double secs = f->t_end > f->t_start ? (double)(f->t_end - f->t_start) / 1e9 : 0;
    char key[40];

    for (unsigned k = 0; k < BC_FK_N; k++) {
        bytes += f->sent_bytes[k];
        answers += f->answers[k];
        abytes += f->answer_bytes[k];
    }
    bc_report_add(r, "flood_ports", "%u", f->nfds);
    bc_report_add(r, "flood_target_rate", "%u", f->o->flood_rate);
    bc_report_add(r, "flood_sent", "%llu", (unsigned long long)total);
    bc_report_add(r, "flood_rate", "%.0f", secs > 0 ? (double)total / secs : 0);
    bc_report_add(r, "flood_send_fail", "%llu", (unsigned long long)f->send_fail);
    bc_report_add(r, "flood_answers", "%llu", (unsigned long long)answers);
    bc_report_add(r, "flood_answers_per_request", "%.4f",
                  total ? (double)answers / (double)total : 0);
    bc_report_add(r, "flood_byte_gain", "%.4f", bytes ? (double)abytes / (double)bytes : 0);
    for (unsigned k = 0; k < BC_FK_N; k++) {
        snprintf(key, sizeof(key), "flood_sent_%s", bc_flood_kind_name[k]);
        bc_report_add(r, key, "%llu", (unsigned long long)f->sent[k]);
    }
    for (unsigned k = BC_FK_ALLOCATE; k <= BC_FK_BINDING; k++) {
        snprintf(key, sizeof(key), "flood_answers_%s", bc_flood_kind_name[k]);
        bc_report_add(r, key, "%llu", (unsigned long long)f->answers[k]);
        snprintf(key, sizeof(key), "flood_answer_bytes_%s", bc_flood_kind_name[k]);
        bc_report_add(r, key, "%llu", (unsigned long long)f->answer_bytes[k]);
        snprintf(key, sizeof(key), "flood_request_bytes_%s", bc_flood_kind_name[k]);
        bc_report_add(r, key, "%llu", (unsigned long long)f->sent_bytes[k]);
    }
    bc_report_add(r, "flood_answers_other", "%llu", (unsigned long long)f->answers_other);
}
