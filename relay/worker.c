/* Worker threads: one libevent loop each, owning its listeners, its
 * allocations' relay sockets and its stream connections; the receive
 * batch, the once-a-second tick and the rules a worker runs with. */
#include "worker_internal.h"

#include <errno.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "client_stream.h"
#include "client_udp.h"
#include "relay_socket.h"
#include "rules.h"

struct turn_clock worker_clock(void)
{
    struct timespec mono, wall;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &mono);
    clock_gettime(CLOCK_REALTIME_COARSE, &wall);
    return (struct turn_clock){.mono = (uint64_t)mono.tv_sec, .wall = (uint64_t)wall.tv_sec};
}

void worker_batch_init(struct worker *w)
{
    for (unsigned i = 0; i < BATCH; i++) {
        w->in.iov[i] = (struct iovec){worker_buf(w, i) + TURN_HEADROOM, 65536};
        w->in.msgs[i].msg_hdr = (struct msghdr){
            .msg_name = &w->in.addr[i],
            .msg_namelen = sizeof(w->in.addr[i]),
            .msg_iov = &w->in.iov[i],
            .msg_iovlen = 1,
            .msg_control = w->in.ctl[i].buf,
            .msg_controllen = sizeof(w->in.ctl[i].buf),
        };
    }
}

int worker_recv_batch(struct worker *w, int fd)
{
    int n;

    /* the kernel rewrote these lengths in the entries it filled last time */
    for (unsigned i = 0; i < w->in.dirty; i++) {
        w->in.msgs[i].msg_hdr.msg_namelen = sizeof(w->in.addr[i]);
        w->in.msgs[i].msg_hdr.msg_controllen = sizeof(w->in.ctl[i].buf);
    }
    n = recvmmsg(fd, w->in.msgs, BATCH, MSG_DONTWAIT, NULL);
    w->in.dirty = n > 0 ? (unsigned)n : 0;
    return n;
}

/* udp-listen-buffer: the receive queue of this worker's UDP listeners,
 * set at start and again when a reload changes it. */
static void set_listen_buffers(struct worker *w)
{
    int size = (int)w->settings.udp_listen_buffer;

    for (size_t i = 0; i < w->n_udp; i++) {
        setsockopt(w->udp[i].fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }
}

/* Copies the current settings (under the box's lock). Returns the
 * generation they belong to. */
static uint64_t copy_settings(struct worker *w, const struct turn_auth **auth,
                              const struct turn_policy **policy)
{
    struct rules_box *box = w->env->rules;
    uint64_t generation;
    bool gso = w->settings.udp_gso;
    uint32_t listen_buffer = w->settings.udp_listen_buffer;

    pthread_mutex_lock(&box->lock);
    generation = atomic_load(&box->generation);
    *auth = box->current.auth;
    *policy = box->current.policy;
    w->settings = box->current.settings;
    pthread_mutex_unlock(&box->lock);
    if (gso != w->settings.udp_gso) {
        w->out.gso = w->settings.udp_gso; /* set again: on may be refused again */
    }
    if (listen_buffer != w->settings.udp_listen_buffer) {
        set_listen_buffers(w);
    }
    return generation;
}

/* Takes new credentials, peer rules and settings when the daemon swapped
 * them. */
static void pick_up_rules(struct worker *w)
{
    struct rules_box *box = w->env->rules;
    uint64_t generation = atomic_load(&box->generation);
    const struct turn_auth *auth;
    const struct turn_policy *policy;
    struct turn_server_config limits;

    if (generation == atomic_load_explicit(&w->rules_generation, memory_order_relaxed)) {
        return;
    }
    generation = copy_settings(w, &auth, &policy);
    turn_server_set_rules(w->turn, auth, policy, worker_clock().mono);
    relay_settings_turn(&w->settings, &limits);
    turn_server_set_limits(w->turn, &limits);
    atomic_store(&w->rules_generation, generation);
}

uint64_t worker_rules_generation(struct worker *w)
{
    return atomic_load(&w->rules_generation);
}

/* The kernel's drop count of each UDP listener (SO_MEMINFO), summed. */
static uint64_t listen_drops(const struct worker *w)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < w->n_udp; i++) {
        uint32_t mem[SK_MEMINFO_VARS];
        socklen_t len = sizeof(mem);

        if (getsockopt(w->udp[i].fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
            len > SK_MEMINFO_DROPS * sizeof(mem[0])) {
            sum += mem[SK_MEMINFO_DROPS];
        }
    }
    return sum;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;

    pick_up_rules(w);
    turn_server_set_draining(w->turn, atomic_load_explicit(w->env->draining, memory_order_relaxed));

    uint64_t now = worker_clock().mono;

    turn_server_tick(w->turn, now);
    client_stream_tick(w);
    w->stats.udp_listen_drops = listen_drops(w);
}

/* The loop has no locks (libevent's thread support is off): another
 * thread asks it to stop by writing to this eventfd. */
static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;

    event_base_loopbreak(w->base);
}

static int stop_event(struct worker *w)
{
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

    if (fd < 0) {
        return -errno;
    }
    w->stop = event_new(w->base, fd, EV_READ | EV_PERSIST, stop_cb, w);
    if (!w->stop || event_add(w->stop, NULL) < 0) {
        close(fd);
        return -ENOMEM;
    }
    return 0;
}

static int open_listeners(struct worker *w, char *what, size_t what_len)
{
    const struct relay_env *env = w->env;
    char addr[64];
    int err;

    for (size_t i = 0; i < env->n_listen; i++) {
        const union turn_addr *a = &env->listen[i];
        turn_addr_format(a, addr, sizeof(addr));
        snprintf(what, what_len, "listen: udp %s", addr);
        if ((err = client_udp_open(w, &w->udp[w->n_udp], a)) < 0) {
            return err;
        }
        w->n_udp++;
        snprintf(what, what_len, "listen: tcp %s", addr);
        if (env->tcp && (err = client_stream_listen(w, &w->streams[w->n_streams], a, false)) < 0) {
            return err;
        }
        w->n_streams += env->tcp;
    }
    for (size_t i = 0; i < env->n_tls_listen; i++) {
        turn_addr_format(&env->tls_listen[i], addr, sizeof(addr));
        snprintf(what, what_len, "tls-listen: %s", addr);
        err = client_stream_listen(w, &w->streams[w->n_streams], &env->tls_listen[i], true);
        if (err < 0) {
            return err;
        }
        w->n_streams++;
    }
    return 0;
}

static int worker_setup(struct worker *w, char *what, size_t what_len)
{
    struct turn_server_config cfg = w->env->turn;
    static const struct timeval second = {1, 0};
    const struct turn_auth *auth;
    const struct turn_policy *policy;
    int err;

    snprintf(what, what_len, "event loop");
    w->base = event_base_new();
    w->bufs = malloc((size_t)BATCH * PKT_ROOM);
    w->stage = malloc(STAGE_ROOM);
    w->tick = w->base ? event_new(w->base, -1, EV_PERSIST, tick_cb, w) : NULL;
    if (!w->tick || !w->bufs || !w->stage || event_add(w->tick, &second) < 0) {
        return -ENOMEM;
    }
    if ((err = stop_event(w)) < 0) {
        return err;
    }
    worker_batch_init(w);
    atomic_store(&w->rules_generation, copy_settings(w, &auth, &policy));
    w->out.gso = w->settings.udp_gso;
    size_t span = (size_t)w->env->port_max - w->env->port_min + 1;
    for (unsigned f = 0; f < 2; f++) {
        if (!(w->local_relays[f] = calloc(span, sizeof(*w->local_relays[f])))) {
            return -ENOMEM;
        }
    }
    cfg.auth = auth;
    cfg.policy = policy;
    relay_settings_turn(&w->settings, &cfg);
    cfg.ops = relay_socket_ops(w);
    if ((err = turn_server_new(&w->turn, &cfg)) < 0) {
        return err;
    }
    if ((err = open_listeners(w, what, what_len)) < 0) {
        return err;
    }
    set_listen_buffers(w);
    return 0;
}

int worker_new(struct worker **out, const struct relay_env *env, unsigned index, char *what,
               size_t what_len)
{
    /* calloc guarantees 16 bytes; the counters are aligned to 64 */
    struct worker *w = aligned_alloc(_Alignof(struct worker), sizeof(*w));
    int err;

    snprintf(what, what_len, "memory");
    if (!w) {
        return -ENOMEM;
    }
    memset(w, 0, sizeof(*w));
    w->env = env;
    w->index = index;
    err = worker_setup(w, what, what_len);
    if (err < 0) {
        worker_free(w);
        return err;
    }
    *out = w;
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    event_base_dispatch(w->base);
    return NULL;
}

int worker_start(struct worker *w)
{
    int err = pthread_create(&w->thread, NULL, worker_main, w);

    w->running = err == 0;
    return -err;
}

void worker_stop(struct worker *w)
{
    if (w->running) {
        uint64_t one = 1;
        (void)write(event_get_fd(w->stop), &one, sizeof(one));
        pthread_join(w->thread, NULL);
        w->running = false;
    }
}

void worker_free(struct worker *w)
{
    if (!w) {
        return;
    }
    client_stream_close_all(w);
    turn_server_free(w->turn);
    for (size_t i = 0; i < w->n_udp; i++) {
        client_udp_close(&w->udp[i]);
    }
    for (size_t i = 0; i < w->n_streams; i++) {
        client_stream_unlisten(&w->streams[i]);
    }
    if (w->tick) {
        event_free(w->tick);
    }
    if (w->stop) {
        int fd = event_get_fd(w->stop);
        event_free(w->stop);
        close(fd);
    }
    if (w->base) {
        event_base_free(w->base);
    }
    free(w->local_relays[0]);
    free(w->local_relays[1]);
    free(w->bufs);
    free(w->stage);
    free(w);
}

const struct turn_stats *worker_stats(struct worker *w)
{
    return turn_server_stats(w->turn);
}

const struct relay_stats *worker_relay_stats(struct worker *w)
{
    return &w->stats;
}

/* Both structs are uint64_t words only, padding included (asserted where
 * they are declared), so they are summed as arrays. */
static void sum_counters(uint64_t *sum, const uint64_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sum[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    }
}

void worker_collect(struct worker *w, struct turn_stats *turn, struct relay_stats *relay)
{
    sum_counters((uint64_t *)turn, (const uint64_t *)turn_server_stats(w->turn),
                 sizeof(*turn) / sizeof(uint64_t));
    sum_counters((uint64_t *)relay, (const uint64_t *)&w->stats, sizeof(*relay) / sizeof(uint64_t));
}
