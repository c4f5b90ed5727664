/* Daemon configuration: one descriptor table gives the keys of the config
 * file and the command-line flags (--KEY VALUE), their defaults, parsing,
 * validation and help. Parsed once at start into a frozen struct br_config. */
#ifndef RELAY_CONFIG_H
#define RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "relay/settings.h"
#include "turn/addr.h"

#define BR_MAX_LISTEN 8
#define BR_MAX_LIST 64
#define BR_PATH_MAX 1024

/* A repeatable string key (auth-secret, user, allow-peer, deny-peer,
 * proxy-protocol-from). */
struct br_strlist {
    char *items[BR_MAX_LIST];
    size_t n;
};

struct br_config {
    /* STUN/TURN listeners (UDP, and TCP once it exists). Default
     * 0.0.0.0:3478 and [::]:3478. */
    union turn_addr listen[BR_MAX_LISTEN];
    size_t n_listen;
    union turn_addr tls_listen[BR_MAX_LISTEN];
    size_t n_tls_listen;
    /* Address relay sockets bind to, per family (family 0 when unset:
     * main picks a default). */
    union turn_addr relay_ip4, relay_ip6;
    /* Address advertised in XOR-RELAYED-ADDRESS instead of relay_ip (1:1 NAT). */
    union turn_addr external_ip4, external_ip6;
    uint16_t relay_port_min, relay_port_max; /* 49152-65535 */
    char realm[128];                         /* default "blindrelay" */
    struct br_strlist secrets;               /* auth-secret, auth-secret-file lines */
    struct br_strlist users;                 /* user NAME:PASSWORD */
    struct br_strlist allow_peer, deny_peer; /* "ADDR/PREFIX", validated, canonical */
    unsigned threads;                        /* 0 = number of cores */
    bool core_dumps;                         /* default false: not dumpable, core limit 0 */
    union turn_addr admin_listen;            /* family 0 = off; default 127.0.0.1:9641 */
    char admin_token_file[BR_PATH_MAX];      /* bearer token for /metrics; "" = none */
    char cert[BR_PATH_MAX], key[BR_PATH_MAX];
    uint32_t nonce_lifetime;         /* 600 s */
    uint32_t total_quota;            /* max allocations, 0 = unlimited */
    bool total_quota_auto;           /* "auto" (default): derived from the fd limit at start */
    uint32_t user_quota;             /* per static user or REST id, 0 = unlimited; default 10 */
    uint32_t unauth_rate;            /* unauthenticated UDP answers/s per prefix, default 100 */
    uint32_t unauth_rate_total;      /* ... from all prefixes, unearned, default 10000 */
    bool tcp;                        /* TCP listeners beside the UDP ones; default true */
    uint32_t max_connections;        /* TCP+TLS connections in total, default 20000 */
    uint32_t max_connections_per_ip; /* from one address, default 32 */
    union turn_addr alternates[BR_MAX_LISTEN]; /* 300 Try Alternate while draining */
    size_t n_alternates;
    uint32_t drain_timeout;         /* SIGTERM: seconds to drain before exiting, 0 = none */
    uint32_t ready_high, ready_low; /* /readyz water marks, percent of each limit: 90, 80 */
    struct br_strlist proxy_from;   /* "ADDR/PREFIX" that send a PROXY v2 header first */
    /* the keys the workers read (relay/settings.h) */
    RELAY_SETTINGS_KEYS(RELAY_SETTING_FIELD)
};

/* What a SIGHUP does with a key whose value changed. Every key of the
 * table carries one of the two marks (0 is "unmarked", a table error). */
enum br_reload {
    BR_RELOAD_UNMARKED,
    BR_RELOAD_APPLY,   /* applied to running workers at the reload */
    BR_RELOAD_RESTART, /* takes effect at the next start only */
};

/* Fills defaults, then applies the config file named by --config (if any),
 * then the remaining flags, which override the file. Repeatable keys given
 * on the command line replace those from the file. On error writes one line
 * "blindrelay: <file>:<line>: <key>: <reason>" (or "--<key>: <reason>") to
 * err and returns -EINVAL. --help (or -h) prints the key list to stdout and
 * returns 1; so does --print-keys (see br_config_print_keys).
 * cfg need not be initialised (it is overwritten). After an error or --help
 * nothing is left allocated; br_config_release is safe in every case. */
int br_config_load(struct br_config *cfg, int argc, char **argv, FILE *err);

/* Frees the string lists (cleansing secrets and passwords). Idempotent. */
void br_config_release(struct br_config *cfg);

/* Writes the key reference (name, default, meaning, reload) for --help. */
void br_config_help(FILE *out);

/* Writes one line per key, fields separated by tabs:
 * "NAME DEFAULT reload|restart FORM RANGE": DEFAULT "none" when there is
 * none; FORM the value's form as --help shows it ("N", "[BOOL]", "N|auto",
 * "ADDR[:PORT]"...); RANGE "MIN-MAX" for numbers and ports, else "-". */
void br_config_print_keys(FILE *out);

/* Compares a and b key by key through the table and writes into names (up
 * to max) the name of each key marked `which` whose value differs: keys
 * sharing a field (relay-ports, min-port, max-port) are named once, by the
 * first. Never looks at what a value is beyond equality, so secrets stay
 * unread. Returns how many differ (which may exceed max). */
size_t br_config_changed(const struct br_config *a, const struct br_config *b, enum br_reload which,
                         const char **names, size_t max);

#endif
