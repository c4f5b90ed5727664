/* Daemon assembly: configuration to protocol objects, workers, signals. */
#include "daemon.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "log.h"
#include "netinfo.h"
#include "readiness.h"
#include "relay_ports.h"
#include "relay_socket.h"
#include "rules.h"
#include "conn_limit.h"
#include "reservation.h"
#include "tls.h"
#include "worker.h"

/* Descriptors total-quota "auto" keeps for everything but allocations and
 * connections: see auto_total_quota. */
#define FD_RESERVE 128
/* More than the key table holds: every changed key is named. */
#define RELOAD_NAMES_MAX 128

struct daemon {
    const struct br_config *cfg; /* as started: what restart-only keys run with */
    struct br_config applied;    /* read by the last good reload; owned */
    bool reloaded;               /* applied holds a configuration */
    struct relay_env env;
    int argc;
    char **argv; /* to read the configuration again on SIGHUP */
    struct rules_box rules;
    struct netinfo_set host; /* the host addresses the current rules refuse */
    unsigned long fd_limit;
    unsigned long fd_reserve, fd_conns; /* of the total-quota "auto" derivation */
    uint32_t total_quota;               /* in force: given, or derived from fd_limit */
    struct turn_quota *quota;
    struct turn_ratelimit *unauth_limit; /* one for all workers: threads do not multiply it */
    struct worker **workers;
    unsigned n_workers;
    struct admin *admin;
    atomic_bool ready;             /* workers started and no stop signal yet; read by admin */
    atomic_bool draining;          /* no new allocations; read by admin and workers */
    pthread_mutex_t capacity_lock; /* the main thread writes capacity, admin reads it */
    struct readiness capacity;
};

_Static_assert(READINESS_N == ADMIN_CAPACITY_N, "admin/admin.h lists the readiness resources");

/* relay-ip when set; else a specific listening address of that family;
 * else the host's first global address (IPv4 falls back to loopback). */
static void pick_relay_ip(const struct br_config *cfg, int family, union turn_addr *out)
{
    const union turn_addr *given = family == AF_INET6 ? &cfg->relay_ip6 : &cfg->relay_ip4;
    bool wildcard = false;

    memset(out, 0, sizeof(*out));
    if (given->sa.sa_family) {
        *out = *given;
        turn_addr_set_port(out, 0);
        return;
    }
    for (size_t i = 0; i < cfg->n_listen; i++) {
        if (cfg->listen[i].sa.sa_family != family) {
            continue;
        }
        if (!turn_addr_is_wildcard(&cfg->listen[i])) {
            *out = cfg->listen[i];
            turn_addr_set_port(out, 0);
            return;
        }
        wildcard = true;
    }
    if (wildcard && netinfo_default_ip(family, out) < 0 && family == AF_INET) {
        turn_addr_parse(out, "127.0.0.1", 0);
    }
}

static void check_relay_ip(const union turn_addr *ip, const char *key)
{
    union turn_addr bound;
    char text[64];
    int fd;

    if (!ip->sa.sa_family) {
        return;
    }
    fd = relay_socket_bind(ip, 0, 0, 0, &bound, NULL);
    if (fd < 0) {
        br_fatal("%s: cannot bind relay sockets on %s: %s", key,
                 turn_addr_format(ip, text, sizeof(text)), strerror(-fd));
    }
    close(fd);
}

/* Workers bind with SO_REUSEPORT, which would let a second daemon on the
 * same address silently share the clients of the first. A plain bind
 * first makes that a clear error instead. */
/* Every allocation holds one socket: take the whole hard limit of file
 * descriptors, not the soft default (often 1024). Returns the limit. */
static unsigned long raise_fd_limit(void)
{
    struct rlimit lim;

    if (getrlimit(RLIMIT_NOFILE, &lim) < 0) {
        return 0;
    }
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
        getrlimit(RLIMIT_NOFILE, &lim);
    }
    return (unsigned long)lim.rlim_cur;
}

static void probe_listen(const union turn_addr *addr, int type, const char *key)
{
    int one = 1, fd = socket(addr->sa.sa_family, type | SOCK_CLOEXEC, 0);
    char text[64];

    if (fd < 0) {
        br_fatal("%s: %s", key, strerror(errno));
    }
    if (addr->sa.sa_family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (type == SOCK_STREAM) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (bind(fd, &addr->sa, turn_addr_len(addr)) < 0) {
        br_fatal("%s: %s %s: %s", key, type == SOCK_STREAM ? "tcp" : "udp",
                 turn_addr_format(addr, text, sizeof(text)), strerror(errno));
    }
    close(fd);
}

static void probe_listeners(const struct br_config *cfg)
{
    for (size_t i = 0; i < cfg->n_listen; i++) {
        probe_listen(&cfg->listen[i], SOCK_DGRAM, "listen");
        if (cfg->tcp) {
            probe_listen(&cfg->listen[i], SOCK_STREAM, "listen");
        }
    }
    for (size_t i = 0; i < cfg->n_tls_listen; i++) {
        probe_listen(&cfg->tls_listen[i], SOCK_STREAM, "tls-listen");
    }
}

static void build_env(struct daemon *d)
{
    const struct br_config *cfg = d->cfg;
    struct relay_env *env = &d->env;

    memcpy(env->listen, cfg->listen, sizeof(env->listen));
    env->n_listen = cfg->n_listen;
    pick_relay_ip(cfg, AF_INET, &env->relay_ip4);
    pick_relay_ip(cfg, AF_INET6, &env->relay_ip6);
    check_relay_ip(&env->relay_ip4, "relay-ip");
    check_relay_ip(&env->relay_ip6, "relay-ip");
    env->external_ip4 = cfg->external_ip4;
    env->external_ip6 = cfg->external_ip6;
    env->port_min = cfg->relay_port_min;
    env->port_max = cfg->relay_port_max;
    env->ports = calloc(1, sizeof(*env->ports));
    if (!env->ports || reservations_new(&env->reservations, env->ports) < 0 ||
        conn_limit_new(&env->conn_limit, cfg->max_connections, cfg->max_connections_per_ip) < 0) {
        br_fatal("out of memory");
    }
    env->tcp = cfg->tcp;
    memcpy(env->tls_listen, cfg->tls_listen, sizeof(env->tls_listen));
    env->n_tls_listen = cfg->n_tls_listen;
    for (size_t i = 0; i < cfg->proxy_from.n; i++) {
        if (proxy_v2_trust_add(&env->proxy_from, cfg->proxy_from.items[i]) < 0) {
            br_fatal("proxy-protocol-from: bad address '%s'", cfg->proxy_from.items[i]);
        }
    }
    if (cfg->n_tls_listen) {
        char err[512];
        if (tls_store_new(&env->tls, cfg->cert, cfg->key, err, sizeof(err)) < 0) {
            br_fatal("%s", err);
        }
    }
}

/* total-quota "auto": allocations that fit in the descriptor limit. Each
 * allocation holds a relay socket, each TCP/TLS client one more; kept
 * aside are FD_RESERVE (standard streams, the admin endpoint and its
 * connections, files read at start and on SIGHUP, libraries), each
 * worker's loop, wake-up eventfd and listeners, and room for
 * min(max-connections, half the rest) stream connections. Never 0
 * (unlimited). */
static uint32_t auto_total_quota(struct daemon *d, const struct br_config *cfg)
{
    unsigned long per_worker = 2 + cfg->n_listen * (1 + cfg->tcp) + cfg->n_tls_listen;
    unsigned long avail, conns;

    d->fd_reserve = FD_RESERVE + d->n_workers * per_worker;
    avail = d->fd_limit > d->fd_reserve ? d->fd_limit - d->fd_reserve : 0;
    conns = avail / 2 < cfg->max_connections ? avail / 2 : cfg->max_connections;
    d->fd_conns = conns;
    if (avail - conns > UINT32_MAX) {
        return UINT32_MAX;
    }
    return avail - conns > 0 ? (uint32_t)(avail - conns) : 1;
}

/* The cap on allocations in effect for cfg, at start and at each reload
 * alike. */
static uint32_t total_quota_of(struct daemon *d, const struct br_config *cfg)
{
    return cfg->total_quota_auto ? auto_total_quota(d, cfg) : cfg->total_quota;
}

static void build_rules(struct daemon *d)
{
    const struct br_config *cfg = d->cfg;
    char err[512];

    if (!cfg->secrets.n && !cfg->users.n) {
        br_log("no auth-secret, auth-secret-file or user: STUN Binding only, every TURN "
               "request is refused (an open relay is not offered)");
    }
    pthread_mutex_init(&d->rules.lock, NULL);
    netinfo_read(&d->host); /* before the build: a change in between is seen later */
    if (rules_build(&d->rules.current, cfg, cfg, &d->env, NULL, err, sizeof(err)) < 0) {
        br_fatal("%s", err);
    }
    d->env.rules = &d->rules;
    d->total_quota = total_quota_of(d, cfg);
    if (turn_quota_new(&d->quota, d->total_quota, cfg->user_quota) < 0 ||
        turn_ratelimit_new(&d->unauth_limit, cfg->unauth_rate) < 0) {
        br_fatal("out of memory");
    }
    turn_ratelimit_set_total(d->unauth_limit, cfg->unauth_rate_total);
}

struct daemon *daemon_new(const struct br_config *cfg, int argc, char **argv)
{
    struct daemon *d = calloc(1, sizeof(*d));
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    if (!d) {
        br_fatal("out of memory");
    }
    d->cfg = cfg;
    d->argc = argc;
    d->argv = argv;
    pthread_mutex_init(&d->capacity_lock, NULL);
    d->fd_limit = raise_fd_limit();
    d->n_workers = cfg->threads ? cfg->threads : (unsigned)(cores > 0 ? cores : 1);
    probe_listeners(cfg);
    build_env(d);
    build_rules(d);
    /* the limits come from the rules' settings, which workers copy */
    d->env.turn = (struct turn_server_config){.quota = d->quota, .unauth_limit = d->unauth_limit};
    d->env.draining = &d->draining;
    d->workers = calloc(d->n_workers, sizeof(*d->workers));
    if (!d->workers) {
        br_fatal("out of memory");
    }
    for (unsigned i = 0; i < d->n_workers; i++) {
        char what[96];
        int err = worker_new(&d->workers[i], &d->env, i, what, sizeof(what));
        if (err < 0) {
            br_fatal("%s: %s", what, strerror(-err));
        }
    }
    return d;
}

static void print_quotas(const struct daemon *d)
{
    char user[32] = "unlimited";

    if (d->cfg->user_quota) {
        snprintf(user, sizeof(user), "%u", (unsigned)d->cfg->user_quota);
    }
    if (d->cfg->total_quota_auto) {
        br_log("total-quota %u (auto: %lu descriptors - %lu reserved - %lu for TCP/TLS "
               "connections), user-quota %s",
               (unsigned)d->total_quota, d->fd_limit, d->fd_reserve, d->fd_conns, user);
    } else if (d->total_quota) {
        br_log("total-quota %u, user-quota %s", (unsigned)d->total_quota, user);
    } else {
        br_log("total-quota unlimited, user-quota %s", user);
    }
}

static void print_summary(const struct daemon *d)
{
    const struct br_config *cfg = d->cfg;
    const struct relay_env *env = &d->env;
    char a[64], b[64];

    br_log("blindrelay %s (%s) starting %u worker%s", BR_VERSION, BR_COMMIT, d->n_workers,
           d->n_workers == 1 ? "" : "s");
    for (size_t i = 0; i < cfg->n_listen; i++) {
        br_log("listening: udp%s %s", cfg->tcp ? " and tcp" : "",
               turn_addr_format(&cfg->listen[i], a, sizeof(a)));
    }
    for (size_t i = 0; i < cfg->n_tls_listen; i++) {
        br_log("listening: tls %s", turn_addr_format(&cfg->tls_listen[i], a, sizeof(a)));
    }
    if (env->relay_ip4.sa.sa_family) {
        br_log(
            "relay: ipv4 %s ports %u-%u, advertised as %s",
            turn_addr_format(&env->relay_ip4, a, sizeof(a)), env->port_min, env->port_max,
            turn_addr_format(env->external_ip4.sa.sa_family ? &env->external_ip4 : &env->relay_ip4,
                             b, sizeof(b)));
    }
    if (env->relay_ip6.sa.sa_family) {
        br_log("relay: ipv6 %s ports %u-%u", turn_addr_format(&env->relay_ip6, a, sizeof(a)),
               env->port_min, env->port_max);
    }
    br_log("realm \"%s\"; %zu shared secret%s, %zu static user%s; peers: %zu allow and %zu "
           "deny rules over the default-denied ranges",
           cfg->realm, cfg->secrets.n, cfg->secrets.n == 1 ? "" : "s", cfg->users.n,
           cfg->users.n == 1 ? "" : "s", cfg->allow_peer.n, cfg->deny_peer.n);
    if (cfg->proxy_from.n) {
        br_log("proxy protocol v2: TCP and TLS connections from %zu proxy range%s begin with a "
               "header",
               cfg->proxy_from.n, cfg->proxy_from.n == 1 ? "" : "s");
    }
    if (cfg->admin_listen.sa.sa_family) {
        br_log("admin: http://%s (/metrics%s, /healthz, /readyz)",
               turn_addr_format(&cfg->admin_listen, a, sizeof(a)),
               cfg->admin_token_file[0] ? " with bearer token" : "");
    } else {
        br_log("admin: off");
    }
    br_log("file descriptors: %lu (one per allocation, one per TCP/TLS connection)", d->fd_limit);
    print_quotas(d);
    br_log("no per-session logs: nothing about clients or peers is written");
}

/* admin/ callbacks, on the admin thread: aggregates only. */
static bool admin_ready_cb(void *arg, char *why, size_t why_len)
{
    struct daemon *d = arg;
    bool full;

    if (!atomic_load_explicit(&d->ready, memory_order_relaxed)) {
        snprintf(why, why_len, "%s", "");
        return false;
    }
    if (atomic_load_explicit(&d->draining, memory_order_relaxed)) {
        snprintf(why, why_len, "draining");
        return false;
    }
    pthread_mutex_lock(&d->capacity_lock);
    full = d->capacity.full;
    readiness_describe(&d->capacity, why, why_len);
    pthread_mutex_unlock(&d->capacity_lock);
    return !full;
}

static void admin_collect_cb(void *arg, struct admin_snapshot *out)
{
    struct daemon *d = arg;

    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < d->n_workers; i++) {
        worker_collect(d->workers[i], &out->turn, &out->relay);
    }
    out->workers = d->n_workers;
    out->draining = atomic_load_explicit(&d->draining, memory_order_relaxed);
    out->relay_ports_range = (uint64_t)d->env.port_max - d->env.port_min + 1;
    out->relay_ports_held[0] = relay_ports_count(d->env.ports, AF_INET);
    out->relay_ports_held[1] = relay_ports_count(d->env.ports, AF_INET6);
    pthread_mutex_lock(&d->capacity_lock);
    for (unsigned i = 0; i < READINESS_N; i++) {
        out->capacity_used[i] = d->capacity.used[i];
        out->capacity_limit[i] = d->capacity.limit[i];
    }
    pthread_mutex_unlock(&d->capacity_lock);
    out->ready = admin_ready_cb(arg, (char[8]){0}, 8);
}

static void start_admin(struct daemon *d)
{
    const struct admin_config ac = {.listen = d->cfg->admin_listen,
                                    .token_file = d->cfg->admin_token_file};
    const struct admin_source src = {
        .collect = admin_collect_cb, .ready = admin_ready_cb, .arg = d};
    char err[512];

    if (!d->cfg->admin_listen.sa.sa_family) {
        return;
    }
    if (admin_start(&d->admin, &ac, &src, err, sizeof(err)) < 0) {
        br_fatal("%s", err);
    }
}

/* The configuration in effect for reloadable keys. */
static const struct br_config *current_cfg(const struct daemon *d)
{
    return d->reloaded ? &d->applied : d->cfg;
}

/* cfg NULL (the configuration did not load): the same files again. */
static void reload_tls(struct daemon *d, const struct br_config *cfg)
{
    char err[512];

    if (!d->env.tls) {
        return;
    }
    if (tls_store_reload(d->env.tls, cfg ? cfg->cert : NULL, cfg ? cfg->key : NULL, err,
                         sizeof(err)) < 0) {
        br_log("SIGHUP: keeping the previous certificate: %s", err);
    } else {
        br_log("SIGHUP: certificate and key reloaded");
    }
}

/* One line per changed key: restart-only keys against the values the
 * daemon started with, reloadable ones against the last applied. Names
 * only: a value may be a secret or an address. */
static void log_changes(const struct daemon *d, const struct br_config *cfg)
{
    const char *names[RELOAD_NAMES_MAX];
    size_t n = br_config_changed(d->cfg, cfg, BR_RELOAD_RESTART, names, RELOAD_NAMES_MAX);

    for (size_t i = 0; i < n && i < RELOAD_NAMES_MAX; i++) {
        br_log("SIGHUP: %s changed; it takes effect at the next start", names[i]);
    }
    n = br_config_changed(current_cfg(d), cfg, BR_RELOAD_APPLY, names, RELOAD_NAMES_MAX);
    for (size_t i = 0; i < n && i < RELOAD_NAMES_MAX; i++) {
        br_log("SIGHUP: %s changed; applied", names[i]);
    }
}

/* Waits (bounded) until every worker runs with the given rules generation. */
static bool workers_acknowledged(struct daemon *d, uint64_t generation)
{
    for (int waited_ms = 0; waited_ms < 3000; waited_ms += 20) {
        unsigned done = 0;
        for (unsigned i = 0; i < d->n_workers; i++) {
            done += worker_rules_generation(d->workers[i]) == generation;
        }
        if (done == d->n_workers) {
            return true;
        }
        usleep(20000);
    }
    return false;
}

/* Builds rules from cfg (and the host addresses as they are now) and hands
 * them to the workers, which take them within a second and end what they
 * refuse. Returns 0, or -1 with the reason in err. */
static int publish_rules(struct daemon *d, const struct br_config *cfg, char *err, size_t err_len)
{
    struct rules fresh, old;
    uint64_t generation;

    netinfo_read(&d->host); /* before the build: a change in between is seen later */
    /* only this thread swaps the rules: reading them unlocked is safe */
    if (rules_build(&fresh, cfg, d->cfg, &d->env, &d->rules.current, err, err_len) < 0) {
        return -1;
    }
    pthread_mutex_lock(&d->rules.lock);
    old = d->rules.current;
    d->rules.current = fresh;
    generation = atomic_fetch_add(&d->rules.generation, 1) + 1;
    pthread_mutex_unlock(&d->rules.lock);
    if (workers_acknowledged(d, generation)) {
        rules_free(&old);
    } /* else a worker is stuck: leaking the old rules is safer than freeing them */
    return 0;
}

/* The reloadable keys that live outside the workers: shared caps, the
 * admin token, the certificate. drain-timeout and alternate-server are
 * read by this thread from current_cfg(). */
static void apply_shared(struct daemon *d, const struct br_config *cfg)
{
    char err[512];

    d->total_quota = total_quota_of(d, cfg);
    turn_quota_set_limits(d->quota, d->total_quota, cfg->user_quota);
    turn_ratelimit_set_rate(d->unauth_limit, cfg->unauth_rate);
    turn_ratelimit_set_total(d->unauth_limit, cfg->unauth_rate_total);
    conn_limit_set(d->env.conn_limit, cfg->max_connections, cfg->max_connections_per_ip);
    /* read again even under the same name: rotating a token rewrites the file */
    if (d->admin && admin_set_token_file(d->admin, cfg->admin_token_file, err, sizeof(err)) < 0) {
        br_log("SIGHUP: keeping the previous admin token: %s", err);
    }
    reload_tls(d, cfg);
}

/* The host's addresses are read again every second (getifaddrs, on this
 * thread): when they changed, the rules are rebuilt and published as a
 * reload would, so an address added to an interface is refused as a peer
 * within seconds, existing permissions and channels to it included. */
static void watch_host_addresses(struct daemon *d)
{
    struct netinfo_set now;
    char err[512];

    if (netinfo_read(&now) < 0 || netinfo_equal(&now, &d->host)) {
        return;
    }
    if (publish_rules(d, current_cfg(d), err, sizeof(err)) < 0) {
        br_log("host addresses changed; keeping the previous peer rules: %s", err);
        return;
    }
    br_log("host addresses changed (%zu now%s): peer rules rebuilt", d->host.n,
           d->host.truncated ? ", more than the policy holds" : "");
}

/* SIGHUP: the configuration is read again (the file and the flags given at
 * start); every key marked reload in the table is applied, the others are
 * named. Established connections and every allocation carry on. */
static void reload(struct daemon *d)
{
    struct br_config cfg;
    char err[512];

    if (br_config_load(&cfg, d->argc, d->argv, stderr) != 0) {
        br_log("SIGHUP: configuration not reloaded (see above); keeping the running one");
        br_config_release(&cfg);
        reload_tls(d, NULL);
        return;
    }
    if (publish_rules(d, &cfg, err, sizeof(err)) < 0) {
        br_log("SIGHUP: keeping the previous credentials, peer rules and limits: %s", err);
        br_config_release(&cfg);
        return;
    }
    log_changes(d, &cfg);
    apply_shared(d, &cfg);
    br_log("SIGHUP: credentials and peer rules reloaded (%zu shared secret%s, %zu static "
           "user%s, %zu allow and %zu deny rules)",
           cfg.secrets.n, cfg.secrets.n == 1 ? "" : "s", cfg.users.n, cfg.users.n == 1 ? "" : "s",
           cfg.allow_peer.n, cfg.deny_peer.n);
    if (d->reloaded) {
        br_config_release(&d->applied);
    }
    d->applied = cfg; /* takes the string lists */
    d->reloaded = true;
}

static uint64_t allocations_active(struct daemon *d)
{
    struct turn_stats turn = {0};
    struct relay_stats relay = {0};

    for (unsigned i = 0; i < d->n_workers; i++) {
        worker_collect(d->workers[i], &turn, &relay);
    }
    return turn.allocations_active;
}

/* Capacity-aware readiness, once a second on this thread: each figure is
 * a sum over workers or one directory read, bounded by the descriptors
 * held. The admin thread only reads the result. */
static void evaluate_capacity(struct daemon *d)
{
    const struct br_config *cfg = current_cfg(d);
    uint64_t held4 = relay_ports_count(d->env.ports, AF_INET),
             held6 = relay_ports_count(d->env.ports, AF_INET6);
    struct readiness r;
    char why[128];
    bool was;

    pthread_mutex_lock(&d->capacity_lock);
    r = d->capacity;
    pthread_mutex_unlock(&d->capacity_lock);
    was = r.full;
    r.used[READINESS_ALLOCATIONS] = allocations_active(d);
    r.limit[READINESS_ALLOCATIONS] = d->total_quota;
    r.used[READINESS_RELAY_PORTS] = held4 > held6 ? held4 : held6;
    r.limit[READINESS_RELAY_PORTS] = (uint64_t)d->env.port_max - d->env.port_min + 1;
    r.used[READINESS_FDS] = admin_open_fds();
    r.limit[READINESS_FDS] = d->fd_limit;
    readiness_update(&r, cfg->ready_high, cfg->ready_low);
    pthread_mutex_lock(&d->capacity_lock);
    d->capacity = r;
    pthread_mutex_unlock(&d->capacity_lock);
    if (r.full && !was) {
        readiness_describe(&r, why, sizeof(why));
        br_log("capacity: /readyz answers 503 (%s, ready-high %u%%); allocations carry on", why,
               (unsigned)cfg->ready_high);
    } else if (was && !r.full) {
        br_log("capacity: /readyz answers 200 again (every limit below ready-low %u%%)",
               (unsigned)cfg->ready_low);
    }
}

/* Workers pick the flag up at their next tick (within a second). */
static void start_drain(struct daemon *d, const char *why)
{
    uint64_t left;

    if (atomic_exchange(&d->draining, true)) {
        return;
    }
    left = allocations_active(d);
    br_log("%s: draining: /readyz answers 503, new allocations are %s; %llu allocation%s carry "
           "on",
           why, current_cfg(d)->n_alternates ? "sent to alternate-server (300)" : "refused (508)",
           (unsigned long long)left, left == 1 ? "" : "s");
}

static uint64_t monotonic_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

/* Takes signals until it is time to stop: SIGHUP reloads, SIGUSR1 drains,
 * SIGTERM stops (after draining, with drain-timeout), SIGINT or a second
 * SIGTERM stops at once. */
static void signal_loop(struct daemon *d, const sigset_t *set)
{
    uint64_t deadline = 0; /* a SIGTERM drain is running until then */

    for (;;) {
        const struct timespec second = {1, 0};
        int sig = sigtimedwait(set, NULL, &second);

        watch_host_addresses(d);
        evaluate_capacity(d);
        if (sig == SIGHUP) {
            reload(d);
        } else if (sig == SIGUSR1) {
            start_drain(d, "SIGUSR1");
        } else if (sig == SIGTERM && current_cfg(d)->drain_timeout && !deadline) {
            uint32_t timeout = current_cfg(d)->drain_timeout;
            start_drain(d, "SIGTERM");
            deadline = monotonic_seconds() + timeout;
            br_log("SIGTERM: stopping when the last allocation ends or in %u s; SIGINT or "
                   "another SIGTERM stops at once",
                   (unsigned)timeout);
        } else if (sig == SIGTERM || sig == SIGINT) {
            br_log("stopping on signal %d", sig);
            return;
        } else if (deadline && allocations_active(d) == 0) {
            br_log("drained: no allocations left, stopping");
            return;
        } else if (deadline && monotonic_seconds() >= deadline) {
            br_log("drain-timeout reached with %llu allocations left, stopping",
                   (unsigned long long)allocations_active(d));
            return;
        }
    }
}

/* Signals are blocked in every thread and taken here with sigtimedwait, so
 * no handler ever runs inside a worker. */
int daemon_run(struct daemon *d)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (unsigned i = 0; i < d->n_workers; i++) {
        int err = worker_start(d->workers[i]);
        if (err < 0) {
            br_fatal("threads: cannot start worker: %s", strerror(-err));
        }
    }
    evaluate_capacity(d);
    start_admin(d);
    atomic_store(&d->ready, true);
    print_summary(d);
    br_log("ready");
    signal_loop(d, &set);
    atomic_store(&d->ready, false);
    admin_stop(d->admin);
    d->admin = NULL;
    for (unsigned i = 0; i < d->n_workers; i++) {
        worker_stop(d->workers[i]);
    }
    return 0;
}

void daemon_free(struct daemon *d)
{
    if (!d) {
        return;
    }
    for (unsigned i = 0; i < d->n_workers; i++) {
        worker_free(d->workers[i]);
    }
    free(d->workers);
    reservations_free(d->env.reservations);
    free(d->env.ports);
    conn_limit_free(d->env.conn_limit);
    tls_store_free(d->env.tls);
    turn_quota_free(d->quota);
    turn_ratelimit_free(d->unauth_limit);
    rules_free(&d->rules.current);
    pthread_mutex_destroy(&d->rules.lock);
    pthread_mutex_destroy(&d->capacity_lock);
    if (d->reloaded) {
        br_config_release(&d->applied);
    }
    free(d);
}
