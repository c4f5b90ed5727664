/* Relay sockets: bound from the configured port range or taken from a
 * reservation, registered in the worker's loop and in its table for
 * in-worker relay-to-relay, read in batches, closed. */
#include "relay_socket.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "peer_side.h"
#include "relay_ports.h"
#include "reservation.h"
#include "worker_internal.h"

static int new_socket(int family, unsigned flags)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0) {
        return -errno;
    }
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (flags & TURN_RELAY_DONT_FRAGMENT) {
        int pmtu = IP_PMTUDISC_DO;
        if (family == AF_INET) {
            setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
        } else {
            setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
        }
    }
    return fd;
}

/* A random port in the range, even when asked: ports are unpredictable to
 * off-path attackers (RFC 8656 7.2 recommends it). */
static uint16_t random_start(uint16_t min, uint16_t max, bool even)
{
    uint32_t r = 0;

    RAND_bytes((unsigned char *)&r, sizeof(r));
    uint16_t port = (uint16_t)(min + r % ((uint32_t)max - min + 1));
    if (even && (port & 1)) {
        port = port > min ? port - 1 : port + 1;
    }
    return port;
}

static int bind_port(int fd, union turn_addr *addr, uint16_t port)
{
    turn_addr_set_port(addr, port);
    return bind(fd, &addr->sa, turn_addr_len(addr)) == 0 ? 0 : -errno;
}

/* With TURN_RELAY_RESERVE_NEXT, port + 1 must be bindable too: it is bound
 * on *next_fd and held for the RESERVATION-TOKEN. */
static int bind_next(const union turn_addr *bound, unsigned flags, int *next_fd)
{
    union turn_addr next = *bound;
    int fd, err;

    if (!(flags & TURN_RELAY_RESERVE_NEXT)) {
        return 0;
    }
    fd = new_socket(bound->sa.sa_family, flags);
    if (fd < 0) {
        return fd;
    }
    err = bind_port(fd, &next, (uint16_t)(turn_addr_port(bound) + 1));
    if (err < 0) {
        close(fd);
        return err;
    }
    *next_fd = fd;
    return 0;
}

int relay_socket_bind(const union turn_addr *ip, uint16_t port_min, uint16_t port_max,
                      unsigned flags, union turn_addr *bound, int *next_fd)
{
    bool even = flags & (TURN_RELAY_EVEN_PORT | TURN_RELAY_RESERVE_NEXT);
    uint32_t span = (uint32_t)port_max - port_min + 1;
    uint16_t start = random_start(port_min, port_max, even);

    *bound = *ip;
    for (uint32_t tried = 0; tried < span; tried++) {
        uint16_t p = (uint16_t)(port_min + (start - port_min + tried) % span);
        if ((even && (p & 1)) || ((flags & TURN_RELAY_RESERVE_NEXT) && p == port_max)) {
            continue;
        }
        int fd = new_socket(ip->sa.sa_family, flags);
        if (fd < 0) {
            return fd;
        }
        int err = bind_port(fd, bound, p);
        if (err == 0) {
            err = bind_next(bound, flags, next_fd);
        }
        if (err == 0) {
            return fd;
        }
        close(fd);
        if (err != -EADDRINUSE && err != -EACCES) {
            return err;
        }
    }
    return -EADDRINUSE;
}

/* The slot of w's relay socket table for a's port, or NULL outside the
 * range. */
static struct turn_relay **local_slot(struct worker *w, const union turn_addr *a)
{
    unsigned family = a->sa.sa_family == AF_INET6;
    uint16_t port = turn_addr_port(a);

    if (!w->local_relays[family] || port < w->env->port_min || port > w->env->port_max) {
        return NULL;
    }
    return &w->local_relays[family][port - w->env->port_min];
}

static void local_set(struct worker *w, const union turn_addr *bound, struct turn_relay *r)
{
    struct turn_relay **slot = local_slot(w, bound);

    if (slot) {
        *slot = r;
    }
}

struct turn_relay *relay_socket_local(struct worker *w, const union turn_addr *a)
{
    const struct relay_env *env = w->env;
    bool v6 = a->sa.sa_family == AF_INET6;
    const union turn_addr *ext = v6 ? &env->external_ip6 : &env->external_ip4;
    const union turn_addr *ip = ext->sa.sa_family ? ext : v6 ? &env->relay_ip6 : &env->relay_ip4;
    struct turn_relay **slot;

    if (!turn_addr_ip_equal(a, ip) || !(slot = local_slot(w, a))) {
        return NULL;
    }
    return *slot;
}

/* Readiness: peer datagrams, a batch at a time, to the allocation's client. */
static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct turn_relay *r = arg;
    struct worker *w = r->worker;
    int n, batches = 0;

    do {
        n = worker_recv_batch(w, fd);
        peer_side_batch(w, r->alloc, n);
        out_queue_flush(&w->out);
    } while (n == BATCH && ++batches < MAX_BATCHES);
}

/* A new socket from the range, or the one reserved under the token. */
static int take_socket(struct worker *w, struct turn_relay_request *rr, const union turn_addr *ip,
                       union turn_addr *bound)
{
    const struct relay_env *env = w->env;
    uint64_t now = worker_clock().mono;
    int next_fd = -1, fd;

    if (rr->token) {
        return reservations_take(env->reservations, rr->token, now, bound);
    }
    fd = relay_socket_bind(ip, env->port_min, env->port_max, rr->flags, bound, &next_fd);
    if (fd >= 0 && next_fd >= 0) {
        union turn_addr next = *bound;
        turn_addr_set_port(&next, (uint16_t)(turn_addr_port(bound) + 1));
        if (reservations_put(env->reservations, next_fd, &next, now, rr->new_token) < 0) {
            close(fd);
            return -EADDRINUSE;
        }
    }
    return fd;
}

static int open_cb(void *arg, struct turn_alloc *alloc, struct turn_relay_request *rr,
                   struct turn_relay **out, union turn_addr *advertised)
{
    struct worker *w = arg;
    const struct relay_env *env = w->env;
    bool v6 = rr->family == AF_INET6;
    const union turn_addr *ip = v6 ? &env->relay_ip6 : &env->relay_ip4;
    const union turn_addr *ext = v6 ? &env->external_ip6 : &env->external_ip4;
    union turn_addr bound;
    struct turn_relay *r;
    int fd;

    if (!ip->sa.sa_family) {
        return -EAFNOSUPPORT;
    }
    fd = take_socket(w, rr, ip, &bound);
    if (fd < 0) {
        return fd;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        close(fd);
        return -ENOMEM;
    }
    r->fd = fd;
    r->alloc = alloc;
    r->worker = w;
    r->bound = bound;
    event_assign(&r->ev, w->base, fd, EV_READ | EV_PERSIST, read_cb, r);
    event_add(&r->ev, NULL);
    local_set(w, &bound, r);
    relay_ports_mark(env->ports, &bound, true);
    *advertised = bound;
    if (ext->sa.sa_family) {
        *advertised = *ext;
        turn_addr_set_port(advertised, turn_addr_port(&bound));
    }
    *out = r;
    return 0;
}

static void close_cb(void *arg, struct turn_relay *r)
{
    /* datagrams queued on this socket go before its number can be reused */
    out_queue_flush(&r->worker->out);
    local_set(r->worker, &r->bound, NULL);
    relay_ports_mark(r->worker->env->ports, &r->bound, false);
    event_del(&r->ev);
    close(r->fd);
    free(r);
}

struct turn_relay_ops relay_socket_ops(struct worker *w)
{
    return (struct turn_relay_ops){.open = open_cb, .close = close_cb, .arg = w};
}
