/* /metrics: aggregate counters in the Prometheus text exposition format
 * 0.0.4. Every label value comes from a fixed table in this file; nothing
 * that identifies a client, peer or user can reach the output. */
#include "metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/* Label values, indexed like the counters they name. */
static const char *const dir_names[TURN_DIR_COUNT] = {
    [TURN_DIR_TO_PEER] = "client_to_peer",
    [TURN_DIR_TO_CLIENT] = "peer_to_client",
};
static const char *const transport_names[TURN_STATS_TRANSPORTS] = {"udp", "tcp", "tls"};
static const char *const drop_names[TURN_DROP_COUNT] = {
    [TURN_DROP_MALFORMED] = "malformed",         [TURN_DROP_NO_ALLOCATION] = "no_allocation",
    [TURN_DROP_NO_PERMISSION] = "no_permission", [TURN_DROP_POLICY] = "policy",
    [TURN_DROP_UNEXPECTED] = "unexpected",       [TURN_DROP_BUFFER_FULL] = "buffer_full",
    [TURN_DROP_BANDWIDTH] = "bandwidth",         [TURN_DROP_OVERSIZED] = "oversized",
};
static const char *const stream_names[2] = {"tcp", "tls"};
static const char *const alloc_fail_names[TURN_ALLOC_FAIL_COUNT] = {
    [TURN_ALLOC_FAIL_FDS] = "fds",
    [TURN_ALLOC_FAIL_PORTS] = "ports",
    [TURN_ALLOC_FAIL_OTHER] = "other",
};

_Static_assert(TURN_DROP_COUNT == 8, "a drop reason without a label value");
_Static_assert(TURN_STATS_TRANSPORTS == 3, "a transport without a label value");
_Static_assert(TURN_ALLOC_FAIL_COUNT == 3, "an allocate failure without a label value");

/* A bounded writer: once full it stays full and writes nothing more. */
struct out {
    char *buf;
    size_t cap, len;
    bool full;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->full) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->full = true;
        return;
    }
    o->len += (size_t)n;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family with one unlabelled sample. */
static void single(struct out *o, const char *name, const char *type, const char *help,
                   uint64_t value)
{
    family(o, name, type, help);
    put(o, "%s %llu\n", name, (unsigned long long)value);
}

/* Every entry of the scalar lists (turn/stats.h, relay/relay_stats.h,
 * admin/admin.h), in their order: a figure added to one of them is printed
 * with no code here. */
static void scalars(struct out *o, const struct admin_snapshot *s)
{
#define TURN_SCALAR(field, name, type, help) single(o, name, type, help, s->turn.field);
#define RELAY_SCALAR(field, name, type, help) single(o, name, type, help, s->relay.field);
#define OWN_SCALAR(field, name, type, help) single(o, name, type, help, s->field);
    TURN_STATS_SCALARS(TURN_SCALAR)
    RELAY_STATS_SCALARS(RELAY_SCALAR)
    ADMIN_SNAPSHOT_SCALARS(OWN_SCALAR)
#undef TURN_SCALAR
#undef RELAY_SCALAR
#undef OWN_SCALAR
}

/* Cumulative buckets, as the format requires; the counters are not. */
static void lifetime_histogram(struct out *o, const struct turn_stats *t)
{
    const char *name = "blindrelay_allocation_lifetime_seconds";
    uint64_t cumulative = 0;

    family(o, name, "histogram", "How long ended allocations lived.");
    for (unsigned i = 0; i < TURN_STATS_N_LIFETIME; i++) {
        cumulative += t->lifetime_buckets[i];
        if (i < TURN_STATS_N_LIFETIME - 1) {
            put(o, "%s_bucket{le=\"%u\"} %llu\n", name, (unsigned)turn_stats_lifetime_bounds[i],
                (unsigned long long)cumulative);
        } else {
            put(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
        }
    }
    put(o, "%s_sum %llu\n%s_count %llu\n", name, (unsigned long long)t->lifetime_sum, name,
        (unsigned long long)cumulative);
}

/* Error responses by code, and the quota refusals (486) as their own family. */
static void errors(struct out *o, const struct turn_stats *t)
{
    const char *name = "blindrelay_error_responses_total";
    uint64_t quota = 0;

    family(o, name, "counter", "Error responses sent, by STUN error code (500: any other code).");
    for (unsigned i = 0; i < TURN_STATS_N_CODES; i++) {
        put(o, "%s{code=\"%u\"} %llu\n", name, (unsigned)turn_stats_error_codes[i],
            (unsigned long long)t->errors[i]);
        if (turn_stats_error_codes[i] == 486) {
            quota = t->errors[i];
        }
    }
    single(o, "blindrelay_quota_rejections_total", "counter",
           "Allocate requests refused by total-quota or user-quota (486).", quota);
    family(o, "blindrelay_allocate_failures_total", "counter",
           "Allocate requests answered 508 because the server could not open a relay socket, "
           "by reason: no file descriptor, no free relay port, other.");
    for (unsigned r = 0; r < TURN_ALLOC_FAIL_COUNT; r++) {
        put(o, "blindrelay_allocate_failures_total{reason=\"%s\"} %llu\n", alloc_fail_names[r],
            (unsigned long long)t->allocate_failures[r]);
    }
}

static void traffic(struct out *o, const struct turn_stats *t)
{
    static const char *const names[2] = {"blindrelay_packets_relayed_total",
                                         "blindrelay_bytes_relayed_total"};
    static const char *const helps[2] = {
        "Packets relayed, by direction and client transport.",
        "Payload bytes relayed (TURN framing excluded), by direction and client transport."};

    for (unsigned k = 0; k < 2; k++) {
        family(o, names[k], "counter", helps[k]);
        for (unsigned d = 0; d < TURN_DIR_COUNT; d++) {
            for (unsigned tr = 0; tr < TURN_STATS_TRANSPORTS; tr++) {
                put(o, "%s{direction=\"%s\",transport=\"%s\"} %llu\n", names[k], dir_names[d],
                    transport_names[tr],
                    (unsigned long long)(k == 0 ? t->packets[d][tr] : t->bytes[d][tr]));
            }
        }
    }
    family(o, "blindrelay_packets_dropped_total", "counter", "Packets dropped, by reason.");
    for (unsigned r = 0; r < TURN_DROP_COUNT; r++) {
        put(o, "blindrelay_packets_dropped_total{reason=\"%s\"} %llu\n", drop_names[r],
            (unsigned long long)t->dropped[r]);
    }
}

static void connections(struct out *o, const struct relay_stats *r)
{
    family(o, "blindrelay_connections_accepted_total", "counter",
           "TCP and TLS client connections accepted, by transport.");
    for (unsigned i = 0; i < 2; i++) {
        put(o, "blindrelay_connections_accepted_total{transport=\"%s\"} %llu\n", stream_names[i],
            (unsigned long long)r->connections_accepted[i]);
    }
}

static void relay_ports(struct out *o, const struct admin_snapshot *s)
{
    const char *name = "blindrelay_relay_ports_held";

    family(o, name, "gauge",
           "Relay ports held now (allocations and EVEN-PORT reservations), per address family; "
           "at blindrelay_relay_ports_range new allocations fail with 508.");
    put(o, "%s{family=\"ipv4\"} %llu\n%s{family=\"ipv6\"} %llu\n", name,
        (unsigned long long)s->relay_ports_held[0], name,
        (unsigned long long)s->relay_ports_held[1]);
}

/* Capacity-aware readiness: use, limit and their ratio per resource. */
static void capacity(struct out *o, const struct admin_snapshot *s)
{
    static const char *const names[ADMIN_CAPACITY_N] = {"allocations", "relay_ports", "fds"};

    family(o, "blindrelay_capacity_used", "gauge",
           "Use of each resource /readyz watches: allocations, relay ports held (of the fuller "
           "address family), open file descriptors.");
    for (unsigned i = 0; i < ADMIN_CAPACITY_N; i++) {
        put(o, "blindrelay_capacity_used{resource=\"%s\"} %llu\n", names[i],
            (unsigned long long)s->capacity_used[i]);
    }
    family(o, "blindrelay_capacity_limit", "gauge",
           "Limit of each resource: total-quota, the relay-ports range, RLIMIT_NOFILE; 0 = none.");
    for (unsigned i = 0; i < ADMIN_CAPACITY_N; i++) {
        put(o, "blindrelay_capacity_limit{resource=\"%s\"} %llu\n", names[i],
            (unsigned long long)s->capacity_limit[i]);
    }
    family(o, "blindrelay_capacity_used_ratio", "gauge",
           "Use over limit of each resource (0 without a limit); /readyz answers 503 from "
           "ready-high percent until all are below ready-low.");
    for (unsigned i = 0; i < ADMIN_CAPACITY_N; i++) {
        put(o, "blindrelay_capacity_used_ratio{resource=\"%s\"} %.4f\n", names[i],
            s->capacity_limit[i] ? (double)s->capacity_used[i] / (double)s->capacity_limit[i]
                                 : 0.0);
    }
}

static void admin_conns(struct out *o, const struct admin_snapshot *s)
{
    const char *name = "blindrelay_admin_connections_closed_total";

    family(o, name, "counter",
           "Connections to this admin endpoint that it closed: to make room for a new one (past "
           "56 at once or 16 from one address), or for not finishing a request in time.");
    put(o, "%s{reason=\"make_room\"} %llu\n%s{reason=\"deadline\"} %llu\n", name,
        (unsigned long long)s->admin_closed[0], name, (unsigned long long)s->admin_closed[1]);
}

static void process(struct out *o, const struct admin_process *p)
{
    family(o, "blindrelay_build_info", "gauge", "Version and commit of this build; always 1.");
    put(o, "blindrelay_build_info{version=\"%s\",commit=\"%s\"} 1\n", BR_VERSION, BR_COMMIT);
    single(o, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
           p->resident_bytes);
    single(o, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
           p->virtual_bytes);
    single(o, "process_open_fds", "gauge", "Number of open file descriptors.", p->open_fds);
    single(o, "process_max_fds", "gauge", "Maximum number of open file descriptors.", p->max_fds);
    family(o, "process_cpu_seconds_total", "counter", "Total user and system CPU time in seconds.");
    put(o, "process_cpu_seconds_total %.2f\n", p->cpu_seconds);
    family(o, "process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch in seconds.");
    put(o, "process_start_time_seconds %.2f\n", p->start_time);
}

int admin_metrics_render(char *buf, size_t len, const struct admin_snapshot *snap,
                         const struct admin_process *proc)
{
    struct out o = {.buf = buf, .cap = len};

    if (len == 0) {
        return -ENOSPC;
    }
    buf[0] = '\0';
    scalars(&o, snap);
    lifetime_histogram(&o, &snap->turn);
    errors(&o, &snap->turn);
    traffic(&o, &snap->turn);
    connections(&o, &snap->relay);
    relay_ports(&o, snap);
    admin_conns(&o, snap);
    capacity(&o, snap);
    process(&o, proc);
    return o.full ? -ENOSPC : (int)o.len;
}
