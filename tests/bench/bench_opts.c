/* blindrelay-bench: command line. Every count and time is bounded, and
 * only loopback servers are accepted (the tool floods its target). */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char bc_usage[] =
    "usage: blindrelay-bench MODE (--server HOST:PORT | --raw-forwarder HOST:PORT) [options]\n"
    "modes:\n"
    "  steady   P relay-to-relay pairs send SRTP at R packets/s for T seconds\n"
    "  ramp     steady, the rate raised by --step-pct every --step-secs until a step\n"
    "           loses >= --loss-pct; reports the highest rate below it\n"
    "  churn    R cycles/s of Allocate + CreatePermission + ChannelBind + Refresh(0)\n"
    "  idle     K allocations held and refreshed; prints 'ready', holds until\n"
    "           SIGINT/SIGTERM or --duration, then releases them\n"
    "  flood    steady, while a second thread floods the server from random\n"
    "           127.0.0.0/8 sources with garbage, unauthenticated Allocates, Bindings\n"
    "           and ChannelData for unknown channels, and counts the answers it gets\n"
    "options:\n"
    "  --server HOST:PORT       TURN server (loopback only: 127.0.0.0/8, ::1)\n"
    "  --raw-forwarder H:P      udp-forwarder instead of TURN (steady, ramp)\n"
    "  --tcp                    TURN over TCP (RFC 8656 stream framing)\n"
    "  --user U --password P    long-term credential\n"
    "  --secret S               TURN REST secret (username <expiry>:bench)\n"
    "  --rest-ttl SEC           REST username lifetime (default 86400)\n"
    "  --pairs P                call pairs, 2P allocations (default 10, max 5000)\n"
    "  --rate R                 packets/s in all, or churn cycles/s (default 2000;\n"
    "                           churn --rate 0: closed loop, a cycle starts as soon\n"
    "                           as one of --window ends)\n"
    "  --size S                 SRTP packet bytes (default 200, 40-1400)\n"
    "  --burst K                a sender's packets go K at a time, back to back, as\n"
    "                           the packets of a video frame do (default 1, max 32)\n"
    "  --duration T             seconds (default 10; idle: 0 = until a signal)\n"
    "  --grace-ms MS            wait for late packets after the end (default 500)\n"
    "  --step-pct N --step-secs S --max-rate R --loss-pct X   ramp (10, 3, 2000000, 0.1)\n"
    "  --allocations K          idle allocations (default 1000, max 100000)\n"
    "  --window N               control transactions in flight (default 256)\n"
    "  --lifetime SEC           LIFETIME asked in Allocate (default: server's)\n"
    "  --one-address            every socket from 127.0.0.2, ports rotating (a busy NAT)\n"
    "  --allocate-only          churn: Allocate + Refresh(0) per cycle, no permission\n"
    "                           or channel\n"
    "  --flood-rate R           flood packets/s (default 0: as fast as possible)\n"
    "  --flood-ports N          flood sockets, wildcard-bound from port 10000 up\n"
    "                           (default 64, max 1024)\n"
    "  --flood-max N            flood packets in all, at most (default 20000000)\n"
    "  --json                   final summary as JSON (default key=value line)\n"
    "  --quiet                  no progress lines on stderr\n";

bool bc_addr_is_loopback(const union turn_addr *a)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (a->sa.sa_family == AF_INET) {
        return (ntohl(a->in4.sin_addr.s_addr) >> 24) == 127;
    }
    if (a->sa.sa_family == AF_INET6) {
        const uint8_t *b = a->in6.sin6_addr.s6_addr;

        return IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr) ||
               (memcmp(b, mapped, sizeof(mapped)) == 0 && b[12] == 127);
    }
    return false;
}

static int bc_parse_server(union turn_addr *out, const char *text)
{
    const char *t = strncmp(text, "localhost:", 10) == 0 ? text + 9 : NULL;
    char buf[64];

    if (t) {
        snprintf(buf, sizeof(buf), "127.0.0.1%s", t);
        text = buf;
    }
    if (turn_addr_parse(out, text, 3478) != 0) {
        fprintf(stderr, "blindrelay-bench: bad server address '%s' (want IP:PORT)\n", text);
        return -EINVAL;
    }
    if (!bc_addr_is_loopback(out)) {
        fprintf(stderr,
                "blindrelay-bench: refusing server %s: only loopback targets "
                "(127.0.0.0/8, ::1) may be benchmarked\n",
                text);
        return -EINVAL;
    }
    return 0;
}

/* Parses a number into [lo, hi]; prints an error and returns -EINVAL. */
static int bc_num(const char *name, const char *v, double lo, double hi, double *out)
{
    char *end;
    double d = strtod(v, &end);

    if (end == v || *end != '\0' || d < lo || d > hi) {
        fprintf(stderr, "blindrelay-bench: --%s %s: want a number from %g to %g\n", name, v, lo,
                hi);
        return -EINVAL;
    }
    *out = d;
    return 0;
}

enum {
    O_SERVER = 256,
    O_RAW,
    O_TCP,
    O_USER,
    O_PASS,
    O_SECRET,
    O_TTL,
    O_PAIRS,
    O_RATE,
    O_SIZE,
    O_DUR,
    O_GRACE,
    O_STEP_PCT,
    O_STEP_SECS,
    O_MAX_RATE,
    O_LOSS,
    O_ALLOCS,
    O_WINDOW,
    O_LIFETIME,
    O_BURST,
    O_ONE_ADDR,
    O_ALLOC_ONLY,
    O_FLOOD_RATE,
    O_FLOOD_PORTS,
    O_FLOOD_MAX,
    O_JSON,
    O_QUIET,
    O_HELP,
};

static const struct option bc_longopts[] = {
    {"server", 1, 0, O_SERVER},
    {"raw-forwarder", 1, 0, O_RAW},
    {"tcp", 0, 0, O_TCP},
    {"user", 1, 0, O_USER},
    {"password", 1, 0, O_PASS},
    {"secret", 1, 0, O_SECRET},
    {"rest-ttl", 1, 0, O_TTL},
    {"pairs", 1, 0, O_PAIRS},
    {"rate", 1, 0, O_RATE},
    {"size", 1, 0, O_SIZE},
    {"duration", 1, 0, O_DUR},
    {"grace-ms", 1, 0, O_GRACE},
    {"step-pct", 1, 0, O_STEP_PCT},
    {"step-secs", 1, 0, O_STEP_SECS},
    {"max-rate", 1, 0, O_MAX_RATE},
    {"loss-pct", 1, 0, O_LOSS},
    {"allocations", 1, 0, O_ALLOCS},
    {"window", 1, 0, O_WINDOW},
    {"lifetime", 1, 0, O_LIFETIME},
    {"burst", 1, 0, O_BURST},
    {"one-address", 0, 0, O_ONE_ADDR},
    {"allocate-only", 0, 0, O_ALLOC_ONLY},
    {"flood-rate", 1, 0, O_FLOOD_RATE},
    {"flood-ports", 1, 0, O_FLOOD_PORTS},
    {"flood-max", 1, 0, O_FLOOD_MAX},
    {"json", 0, 0, O_JSON},
    {"quiet", 0, 0, O_QUIET},
    {"help", 0, 0, O_HELP},
    {0, 0, 0, 0},
};

/* Numeric options: one descriptor each (bounds, and where the value goes). */
struct bc_numopt {
    int id;
    const char *name;
    double lo, hi;
    size_t off;
    bool is_double;
};

#define BC_U(id, name, lo, hi, field)                                                              \
    {                                                                                              \
        id, name, lo, hi, offsetof(struct bc_opts, field), false                                   \
    }
#define BC_D(id, name, lo, hi, field)                                                              \
    {                                                                                              \
        id, name, lo, hi, offsetof(struct bc_opts, field), true                                    \
    }

static const struct bc_numopt bc_numopts[] = {
    BC_U(O_TTL, "rest-ttl", 60, 864000, rest_ttl),
    BC_U(O_PAIRS, "pairs", 1, BC_MAX_PAIRS, pairs),
    BC_U(O_RATE, "rate", 0, BC_MAX_RATE, rate),
    BC_U(O_SIZE, "size", BC_MIN_SIZE, BC_MAX_SIZE, size),
    BC_D(O_DUR, "duration", 0, BC_MAX_DURATION, duration),
    BC_U(O_GRACE, "grace-ms", 0, 10000, grace_ms),
    BC_U(O_STEP_PCT, "step-pct", 1, 100, step_pct),
    BC_D(O_STEP_SECS, "step-secs", 0.5, 60, step_secs),
    BC_U(O_MAX_RATE, "max-rate", 1, BC_MAX_RATE, max_rate),
    BC_D(O_LOSS, "loss-pct", 0, 100, loss_pct),
    BC_U(O_ALLOCS, "allocations", 1, BC_MAX_ALLOCS, allocs),
    BC_U(O_WINDOW, "window", 1, 4096, window),
    BC_U(O_LIFETIME, "lifetime", 0, 86400, lifetime),
    BC_U(O_BURST, "burst", 1, BC_BATCH / 2, burst),
    BC_U(O_FLOOD_RATE, "flood-rate", 0, BC_MAX_RATE, flood_rate),
    BC_U(O_FLOOD_PORTS, "flood-ports", 1, BC_MAX_FLOOD_PORTS, flood_ports),
    BC_U(O_FLOOD_MAX, "flood-max", 1, BC_MAX_FLOOD, flood_max),
};

static int bc_numeric(struct bc_opts *o, int id, const char *v)
{
    for (size_t i = 0; i < sizeof(bc_numopts) / sizeof(bc_numopts[0]); i++) {
        const struct bc_numopt *d = &bc_numopts[i];
        double x;

        if (d->id != id) {
            continue;
        }
        if (bc_num(d->name, v, d->lo, d->hi, &x) != 0) {
            return -EINVAL;
        }
        if (d->is_double) {
            *(double *)((char *)o + d->off) = x;
        } else {
            *(unsigned *)((char *)o + d->off) = (unsigned)x;
        }
        return 0;
    }
    return -EINVAL;
}

static int bc_option(struct bc_opts *o, int id, const char *v)
{
    switch (id) {
    case O_SERVER:
        o->raw = false;
        return bc_parse_server(&o->server, v);
    case O_RAW:
        o->raw = true;
        return bc_parse_server(&o->server, v);
    case O_TCP:
        o->tcp = true;
        return 0;
    case O_USER:
        o->user = v;
        return 0;
    case O_PASS:
        o->password = v;
        return 0;
    case O_SECRET:
        o->secret = v;
        return 0;
    case O_ONE_ADDR:
        o->one_address = true;
        return 0;
    case O_ALLOC_ONLY:
        o->allocate_only = true;
        return 0;
    case O_JSON:
        o->json = true;
        return 0;
    case O_QUIET:
        o->quiet = true;
        return 0;
    case O_HELP:
        fputs(bc_usage, stdout);
        exit(0);
    default:
        return bc_numeric(o, id, v);
    }
}

static int bc_mode(struct bc_opts *o, const char *m)
{
    static const char *const names[] = {"steady", "ramp", "churn", "idle", "flood"};

    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(m, names[i]) == 0) {
            o->mode = (enum bc_mode)i;
            return 0;
        }
    }
    fprintf(stderr, "blindrelay-bench: unknown mode '%s'\n%s", m, bc_usage);
    return -EINVAL;
}

static int bc_check(const struct bc_opts *o)
{
    const char *e = NULL;

    if (o->server.sa.sa_family == 0) {
        e = "--server HOST:PORT (or --raw-forwarder) is required";
    } else if (o->raw && o->mode != BC_STEADY && o->mode != BC_RAMP) {
        e = "--raw-forwarder is UDP and for steady and ramp only";
    } else if (!o->raw && !o->secret && !(o->user && o->password)) {
        e = "credentials needed: --user U --password P, or --secret S";
    } else if (o->mode != BC_IDLE && o->duration <= 0) {
        e = "--duration must be positive";
    } else if (o->rate == 0 && o->mode != BC_CHURN) {
        e = "--rate 0 (closed loop) is for churn only";
    } else if ((o->one_address || o->mode == BC_FLOOD) &&
               (o->server.sa.sa_family != AF_INET || o->tcp)) {
        e = "--one-address and flood need an IPv4 server over UDP";
    }
    if (e) {
        fprintf(stderr, "blindrelay-bench: %s\n", e);
        return -EINVAL;
    }
    return 0;
}

int bc_opts_parse(struct bc_opts *o, int argc, char **argv)
{
    int id;

    *o = (struct bc_opts){.rest_ttl = 86400,
                          .pairs = 10,
                          .rate = 2000,
                          .size = 200,
                          .burst = 1,
                          .duration = -1,
                          .grace_ms = 500,
                          .step_pct = 10,
                          .step_secs = 3,
                          .max_rate = 2000000,
                          .loss_pct = 0.1,
                          .allocs = 1000,
                          .window = 256,
                          .flood_ports = 64,
                          .flood_max = 20000000};
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
            fputs(bc_usage, stdout);
            exit(0);
        }
        fputs(bc_usage, stderr);
        return -EINVAL;
    }
    if (bc_mode(o, argv[1]) != 0) {
        return -EINVAL;
    }
    optind = 2;
    while ((id = getopt_long(argc, argv, "", bc_longopts, NULL)) != -1) {
        if (id == '?' || bc_option(o, id, optarg) != 0) {
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "blindrelay-bench: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    if (o->duration < 0) {
        o->duration = o->mode == BC_IDLE ? 0 : 10; /* idle holds until a signal */
    }
    return bc_check(o);
}
