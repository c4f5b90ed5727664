/* Daemon configuration: the key descriptor table, and from it the defaults,
 * the config file reader (coturn's turnserver.conf syntax), the --KEY VALUE
 * flags, cross-key validation and --help. */
#include "relay/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "relay/config_parse.h"

#define OFF(f) offsetof(struct br_config, f)
#define U32_MAX_ 4294967295u
#define NAME_MAX_ 64
/* The last field of every key: what a SIGHUP does when its value changed. */
#define RELOAD BR_RELOAD_APPLY
#define RESTART BR_RELOAD_RESTART

_Static_assert(_Generic(((struct br_config *)0)->threads, uint32_t : 1, default : 0),
               "threads is parsed as a uint32_t");

/* A row of the table from a line of RELAY_SETTINGS_KEYS (relay/settings.h):
 * a key the workers read, applied at every reload. */
#define SETTING_ROW(kind, field, name, def, min, max, help)                                        \
    {name, BR_T_##kind, OFF(field), 0, min, max, 0, def, help, RELOAD},

/* Every key of the file and the command line. Defaults are config text
 * parsed like user input, so they pass the same checks. The last field says
 * whether a SIGHUP applies a changed value (RELOAD: the daemon must then
 * hand it to the workers) or only names it (RESTART). The numbers and
 * booleans the workers read come from relay/settings.h, where one line
 * makes such a key. */
static const struct br_key keys[] = {
    {"listen", BR_T_ADDRS, OFF(listen), OFF(n_listen), 0, 0, 3478, "0.0.0.0:3478 [::]:3478",
     "STUN/TURN listening address (UDP); repeatable; port defaults to 3478", RESTART},
    {"tls-listen", BR_T_ADDRS, OFF(tls_listen), OFF(n_tls_listen), 0, 0, 5349, "",
     "TURN over TLS listening address; repeatable; port defaults to 5349; needs cert and key",
     RESTART},
    {"relay-ip", BR_T_IP, OFF(relay_ip4), OFF(relay_ip6), 0, 0, 0, "",
     "local address relay sockets bind to, at most one per family; none: chosen at start", RESTART},
    {"external-ip", BR_T_IP, OFF(external_ip4), OFF(external_ip6), 0, 0, 0, "",
     "public address told to clients instead of relay-ip (1:1 NAT), at most one per family",
     RESTART},
    {"relay-ports", BR_T_PORTS, OFF(relay_port_min), OFF(relay_port_max), 1024, 65535, 0,
     "49152-65535", "port range of relay sockets", RESTART},
    {"min-port", BR_T_PORT, OFF(relay_port_min), 0, 1024, 65535, 0, "",
     "lower end of relay-ports (coturn's name)", RESTART},
    {"max-port", BR_T_PORT, OFF(relay_port_max), 0, 1024, 65535, 0, "",
     "upper end of relay-ports (coturn's name)", RESTART},
    {"realm", BR_T_REALM, OFF(realm), 0, 0, 0, 0, "blindrelay",
     "REALM sent to clients: 1 to 32 printable ASCII characters", RELOAD},
    {"auth-secret", BR_T_SECRET, OFF(secrets), 0, 0, 0, 0, "",
     "shared secret of TURN REST API credentials; repeatable (all are accepted)", RELOAD},
    {"auth-secret-file", BR_T_SECRET_FILE, OFF(secrets), 0, 0, 0, 0, "",
     "file holding one auth-secret per line ('#' comments); repeatable", RELOAD},
    {"user", BR_T_USER, OFF(users), 0, 0, 0, 0, "", "static credential NAME:PASSWORD; repeatable",
     RELOAD},
    {"allow-peer", BR_T_CIDR, OFF(allow_peer), 0, 0, 0, 0, "",
     "peer range allowed despite the default-denied ranges; repeatable", RELOAD},
    {"deny-peer", BR_T_CIDR, OFF(deny_peer), 0, 0, 0, 0, "",
     "peer range refused, even if allow-peer matches; repeatable", RELOAD},
    {"threads", BR_T_UINT, OFF(threads), 0, 0, 256, 0, "0",
     "worker threads, 0 = one per core (0 to 256)", RESTART},
    {"core-dumps", BR_T_BOOL, OFF(core_dumps), 0, 0, 0, 0, "false",
     "let a crash write a core dump (it holds client addresses, keys and payloads); for "
     "debugging only; false also sets the hard core size limit to 0",
     RESTART},
    {"admin-listen", BR_T_ADMIN, OFF(admin_listen), 0, 0, 0, 9641, "127.0.0.1:9641",
     "admin HTTP endpoint (/metrics, /healthz, /readyz); \"\" turns it off", RESTART},
    {"admin-token-file", BR_T_PATH, OFF(admin_token_file), 0, 0, 0, 0, "",
     "file holding the bearer token /metrics asks for; none: no token", RELOAD},
    {"cert", BR_T_PATH, OFF(cert), 0, 0, 0, 0, "", "TLS certificate chain, PEM", RELOAD},
    {"key", BR_T_PATH, OFF(key), 0, 0, 0, 0, "", "TLS private key, PEM", RELOAD},
    RELAY_SETTINGS_KEYS(SETTING_ROW){"nonce-lifetime", BR_T_UINT, OFF(nonce_lifetime), 0, 30, 86400,
                                     0, "600", "seconds a nonce stays valid (30 to 86400)", RELOAD},
    {"total-quota", BR_T_UINT, OFF(total_quota), OFF(total_quota_auto), 0, U32_MAX_, 0, "auto",
     "most allocations at once, 0 = unlimited; auto = as many as the file descriptor limit "
     "leaves room for (printed at start)",
     RELOAD},
    {"user-quota", BR_T_UINT, OFF(user_quota), 0, 0, U32_MAX_, 0, "10",
     "most allocations at once per static user or per REST credential id (the part after "
     "the first ':'), 0 = unlimited",
     RELOAD},
    {"unauth-rate", BR_T_UINT, OFF(unauth_rate), 0, 0, 1000000, 0, "100",
     "answers per second to unauthenticated UDP requests per /24 or /48 source prefix, "
     "0 = no limit",
     RELOAD},
    {"unauth-rate-total", BR_T_UINT, OFF(unauth_rate_total), 0, 0, 10000000, 0, "10000",
     "answers per second to unauthenticated UDP requests from all prefixes together, beyond "
     "what prefixes earned by logging in; 0 = no cap",
     RELOAD},
    {"tcp", BR_T_BOOL, OFF(tcp), 0, 0, 0, 0, "true",
     "also accept TURN over TCP on every listen address", RESTART},
    {"max-connections", BR_T_UINT, OFF(max_connections), 0, 1, 1000000, 0, "20000",
     "TCP and TLS connections at once, all clients (1 to 1000000)", RELOAD},
    {"max-connections-per-ip", BR_T_UINT, OFF(max_connections_per_ip), 0, 1, 1000000, 0, "32",
     "TCP and TLS connections at once from one client address (1 to 1000000)", RELOAD},
    {"proxy-protocol-from", BR_T_CIDR, OFF(proxy_from), 0, 0, 0, 0, "",
     "proxy (ADDR/PREFIX) whose TCP and TLS connections begin with a PROXY protocol v2 header "
     "naming the client; others may not send one; repeatable; none: no header is read",
     RESTART},
    {"alternate-server", BR_T_ADDRS, OFF(alternates), OFF(n_alternates), 0, 0, 3478, "",
     "while draining, new allocations are sent here (300 Try Alternate), the first of the "
     "client's address family; none: refused with 508; repeatable",
     RELOAD},
    {"drain-timeout", BR_T_UINT, OFF(drain_timeout), 0, 0, 86400, 0, "0",
     "on SIGTERM, seconds to drain (no new allocations) before exiting, sooner when the last "
     "allocation ends; 0 = exit at once",
     RELOAD},
    {"ready-high", BR_T_UINT, OFF(ready_high), 0, 1, 100, 0, "90",
     "/readyz answers 503 once allocations, relay ports or file descriptors reach this percent "
     "of their limit (1 to 100); calls carry on",
     RELOAD},
    {"ready-low", BR_T_UINT, OFF(ready_low), 0, 1, 100, 0, "80",
     "/readyz answers 200 again once every one is below this percent (1 to 100, below "
     "ready-high)",
     RELOAD},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* coturn names with the same meaning; bare is the value of a bare key. */
static const struct {
    const char *name, *target, *bare;
} aliases[] = {
    {"static-auth-secret", "auth-secret", NULL},
    {"allowed-peer-ip", "allow-peer", NULL},
    {"denied-peer-ip", "deny-peer", NULL},
    {"relay-threads", "threads", NULL},
    {"max-allocate-lifetime", "max-lifetime", NULL},
    {"stale-nonce", "nonce-lifetime", "600"},
    {"pkey", "key", NULL},
};

/* coturn keys with no counterpart here, and what to write instead. */
static const struct {
    const char *name, *hint;
} hints[] = {
    {"listening-port", "use listen ADDR:PORT"},
    {"tls-listening-port", "use tls-listen ADDR:PORT"},
    {"listening-ip", "use listen ADDR:PORT"},
    {"use-auth-secret", "not needed: auth-secret enables TURN REST API credentials"},
    {"lt-cred-mech", "not needed: long-term credentials are always used"},
};

/* Parse state across defaults, the file and the flags. */
struct load {
    struct br_parse p;
    const char *config_path;
    unsigned seq;
    enum br_src list_src[N_KEYS]; /* by first key of a list field: who filled it */
    struct {
        enum br_src src;
        unsigned line, seq;
        const char *typed;
    } set[N_KEYS]; /* where each key was last set, to blame in validate() */
};

static const struct br_key *find_key(const char *name, const char **typed, const char **bare)
{
    const char *alias = NULL;

    *bare = NULL;
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcmp(name, aliases[i].name) == 0) {
            alias = aliases[i].name;
            *bare = aliases[i].bare;
            name = aliases[i].target;
            break;
        }
    }
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(name, keys[i].name) == 0) {
            *typed = alias ? alias : keys[i].name;
            return &keys[i];
        }
    }
    return NULL;
}

static int unknown_key(struct load *ld, const char *name)
{
    char q[NAME_MAX_];

    ld->p.typed = br_cfg_quote(q, sizeof(q), name);
    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        if (strcmp(name, hints[i].name) == 0) {
            return br_cfg_fail(&ld->p, "unknown key; %s", hints[i].hint);
        }
    }
    return br_cfg_fail(&ld->p, "unknown key");
}

/* Keys sharing a list field (auth-secret, auth-secret-file) share a slot. */
static size_t list_slot(const struct br_key *k)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (keys[i].off == k->off && br_cfg_is_list(&keys[i])) {
            return i;
        }
    }
    return (size_t)(k - keys);
}

static int apply(struct load *ld, const struct br_key *k, const char *typed, const char *val)
{
    size_t i = (size_t)(k - keys), slot = list_slot(k);

    ld->p.typed = typed;
    if (br_cfg_is_list(k) && ld->list_src[slot] != ld->p.src) {
        br_cfg_clear(ld->p.cfg, k);
        ld->list_src[slot] = ld->p.src;
    }
    ld->set[i].src = ld->p.src;
    ld->set[i].line = ld->p.line;
    ld->set[i].seq = ++ld->seq;
    ld->set[i].typed = typed;
    return br_cfg_set(&ld->p, k, val);
}

static int apply_defaults(struct load *ld)
{
    char buf[128], *save = NULL;
    int rc;

    ld->p.src = BR_SRC_DEFAULT;
    for (size_t i = 0; i < N_KEYS; i++) {
        snprintf(buf, sizeof(buf), "%s", keys[i].def);
        for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
            if ((rc = apply(ld, &keys[i], keys[i].name, t)) < 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* One line of the file: "key=value", "key value", "key" (a bare key),
 * blank, or a '#' comment. */
static int file_line(struct load *ld, char *line)
{
    char *key = br_cfg_trim(line), *rest;
    const char *val = NULL, *typed = NULL, *bare;
    const struct br_key *k;
    bool eq;

    if (!*key || *key == '#') {
        return 0;
    }
    rest = key + strcspn(key, "= \t");
    eq = *rest == '=';
    if (*rest) {
        *rest++ = '\0';
    }
    rest += strspn(rest, " \t");
    if (!eq && *rest == '=') {
        eq = true;
        rest++;
        rest += strspn(rest, " \t");
    }
    if (*rest || eq) {
        val = rest;
    }
    if (!(k = find_key(key, &typed, &bare))) {
        return unknown_key(ld, key);
    }
    return apply(ld, k, typed, val ? val : bare);
}

static int load_file(struct load *ld, const char *path)
{
    char *line = NULL, q[256];
    size_t cap = 0;
    int rc = 0;
    FILE *f = fopen(path, "re");

    if (!f) {
        ld->p.src = BR_SRC_FLAG;
        ld->p.typed = "config";
        return br_cfg_fail(&ld->p, "cannot read '%s': %s", br_cfg_quote(q, sizeof(q), path),
                           strerror(errno));
    }
    ld->p.src = BR_SRC_FILE;
    ld->p.file = path;
    errno = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        ld->p.line++;
        rc = file_line(ld, line);
    }
    if (rc == 0 && ferror(f)) {
        int e = errno ? errno : EIO;
        ld->p.src = BR_SRC_FLAG;
        ld->p.typed = "config";
        rc = br_cfg_fail(&ld->p, "cannot read '%s': %s", br_cfg_quote(q, sizeof(q), path),
                         strerror(e));
    }
    if (line) {
        OPENSSL_cleanse(line, cap); /* lines may hold secrets */
        free(line);
    }
    fclose(f);
    return rc;
}

/* One command-line flag with its value. */
struct flag {
    enum { FLAG_KEY, FLAG_CONFIG, FLAG_HELP, FLAG_PRINT_KEYS, FLAG_UNKNOWN, FLAG_STRAY } kind;
    const struct br_key *k;
    const char *typed; /* static name of a known key */
    const char *val;   /* NULL: none given */
    char name[NAME_MAX_];
};

static bool is_bool_word(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "1", "0"};

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasecmp(s, words[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Reads the flag at argv[*i] and its value: "--key=value", "--key value",
 * or "--key" alone for a boolean (or a bare alias). A following argument
 * that starts with "--" is never taken as a value. Advances *i. */
static void flag_next(int argc, char **argv, int *i, struct flag *f)
{
    const char *a = argv[(*i)++], *eq, *bare = NULL, *next;
    size_t n;

    memset(f, 0, sizeof(*f));
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
        f->kind = FLAG_HELP;
        return;
    }
    if (strcmp(a, "--print-keys") == 0) {
        f->kind = FLAG_PRINT_KEYS;
        return;
    }
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
        f->kind = FLAG_STRAY;
        return;
    }
    a += 2;
    eq = strchr(a, '=');
    n = eq ? (size_t)(eq - a) : strlen(a);
    snprintf(f->name, sizeof(f->name), "%.*s", (int)(n < NAME_MAX_ ? n : NAME_MAX_ - 1), a);
    if (strcmp(f->name, "config") == 0) {
        f->kind = FLAG_CONFIG;
        f->typed = "config";
    } else if (!(f->k = find_key(f->name, &f->typed, &bare))) {
        f->kind = FLAG_UNKNOWN;
        return;
    }
    next = *i < argc ? argv[*i] : NULL;
    if (eq) {
        f->val = eq + 1;
    } else if (f->k && f->k->type == BR_T_BOOL) {
        f->val = next && is_bool_word(next) ? argv[(*i)++] : NULL;
    } else if (next && strncmp(next, "--", 2) != 0) {
        f->val = argv[(*i)++];
    } else {
        f->val = bare;
    }
}

/* FLAG_HELP or FLAG_PRINT_KEYS when one of them is given (the first
 * wins), else FLAG_KEY. */
static int wants_help(int argc, char **argv)
{
    struct flag f;

    for (int i = 1; i < argc;) {
        flag_next(argc, argv, &i, &f);
        if (f.kind == FLAG_HELP || f.kind == FLAG_PRINT_KEYS) {
            return f.kind;
        }
    }
    return FLAG_KEY;
}

static int find_config(struct load *ld, int argc, char **argv)
{
    struct flag f;

    ld->p.src = BR_SRC_FLAG;
    ld->p.typed = "config";
    for (int i = 1; i < argc;) {
        flag_next(argc, argv, &i, &f);
        if (f.kind != FLAG_CONFIG) {
            continue;
        }
        if (!f.val || !*f.val) {
            return br_cfg_fail(&ld->p, "missing value");
        }
        if (ld->config_path) {
            return br_cfg_fail(&ld->p, "given twice");
        }
        ld->config_path = f.val;
    }
    return 0;
}

static int apply_flags(struct load *ld, int argc, char **argv)
{
    struct flag f;
    int rc = 0;

    ld->p.src = BR_SRC_FLAG;
    ld->p.line = 0;
    for (int i = 1; i < argc && rc == 0;) {
        int at = i;
        flag_next(argc, argv, &i, &f);
        switch (f.kind) {
        case FLAG_KEY:
            rc = apply(ld, f.k, f.typed, f.val);
            break;
        case FLAG_UNKNOWN:
            rc = unknown_key(ld, f.name);
            break;
        case FLAG_STRAY:
            /* Not quoted: it may be a secret that lost its flag. */
            fprintf(ld->p.err,
                    "blindrelay: argument %d: unexpected (flags are --KEY VALUE or --KEY=VALUE)\n",
                    at);
            rc = -EINVAL;
            break;
        default:
            break;
        }
    }
    return rc;
}

/* Points the error location at whichever of names was set last. */
static void blame(struct load *ld, const char *const *names)
{
    size_t best = N_KEYS;

    for (; *names; names++) {
        for (size_t i = 0; i < N_KEYS; i++) {
            if (strcmp(keys[i].name, *names) == 0 &&
                (best == N_KEYS || ld->set[i].seq > ld->set[best].seq)) {
                best = i;
            }
        }
    }
    ld->p.src = ld->set[best].src;
    ld->p.line = ld->set[best].line;
    ld->p.typed = ld->set[best].typed ? ld->set[best].typed : keys[best].name;
}

static int validate(struct load *ld)
{
    const struct br_config *c = ld->p.cfg;

    if (c->relay_port_min > c->relay_port_max) {
        blame(ld, (const char *const[]){"relay-ports", "min-port", "max-port", NULL});
        return br_cfg_fail(&ld->p, "relay port range %u-%u is empty", (unsigned)c->relay_port_min,
                           (unsigned)c->relay_port_max);
    }
    if (c->default_lifetime > c->max_lifetime) {
        blame(ld, (const char *const[]){"default-lifetime", "max-lifetime", NULL});
        return br_cfg_fail(&ld->p, "default-lifetime (%u) must not exceed max-lifetime (%u)",
                           (unsigned)c->default_lifetime, (unsigned)c->max_lifetime);
    }
    for (size_t i = 0; i < c->n_alternates; i++) {
        if (turn_addr_is_wildcard(&c->alternates[i])) {
            blame(ld, (const char *const[]){"alternate-server", NULL});
            return br_cfg_fail(&ld->p, "must be an address clients can reach, not a wildcard");
        }
    }
    if (c->ready_low >= c->ready_high) {
        blame(ld, (const char *const[]){"ready-low", "ready-high", NULL});
        return br_cfg_fail(&ld->p, "ready-low (%u) must be below ready-high (%u)",
                           (unsigned)c->ready_low, (unsigned)c->ready_high);
    }
    if (c->n_tls_listen > 0 && (!c->cert[0] || !c->key[0])) {
        blame(ld, (const char *const[]){"tls-listen", NULL});
        return br_cfg_fail(&ld->p, "needs cert and key");
    }
    return 0;
}

int br_config_load(struct br_config *cfg, int argc, char **argv, FILE *err)
{
    struct load ld = {.p = {.cfg = cfg, .err = err}};
    int rc;

    memset(cfg, 0, sizeof(*cfg));
    switch (wants_help(argc, argv)) {
    case FLAG_HELP:
        br_config_help(stdout);
        return 1;
    case FLAG_PRINT_KEYS:
        br_config_print_keys(stdout);
        return 1;
    default:
        break;
    }
    rc = find_config(&ld, argc, argv);
    if (rc == 0) {
        rc = apply_defaults(&ld);
    }
    if (rc == 0 && ld.config_path) {
        rc = load_file(&ld, ld.config_path);
    }
    if (rc == 0) {
        rc = apply_flags(&ld, argc, argv);
    }
    if (rc == 0) {
        rc = validate(&ld);
    }
    if (rc < 0) {
        br_config_release(cfg);
    }
    return rc;
}

void br_config_release(struct br_config *cfg)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (br_cfg_is_list(&keys[i])) {
            br_cfg_clear(cfg, &keys[i]);
        }
    }
}

/* A key left unmarked (a table error the unit tests catch) counts as
 * restart-only: named when it changes, never silently ignored. */
static enum br_reload reload_of(const struct br_key *k)
{
    return k->reload == BR_RELOAD_APPLY ? BR_RELOAD_APPLY : BR_RELOAD_RESTART;
}

static const char *reload_word(const struct br_key *k)
{
    return reload_of(k) == BR_RELOAD_APPLY ? "reload" : "restart";
}

/* The numeric range of k, "MIN-MAX", or "-" for a key without one. */
static const char *range_of(const struct br_key *k, char *buf, size_t size)
{
    if (k->type != BR_T_UINT && k->type != BR_T_PORT && k->type != BR_T_PORTS) {
        return "-";
    }
    snprintf(buf, size, "%u-%u", (unsigned)k->min, (unsigned)k->max);
    return buf;
}

void br_config_print_keys(FILE *out)
{
    char range[32];

    for (size_t i = 0; i < N_KEYS; i++) {
        fprintf(out, "%s\t%s\t%s\t%s\t%s\n", keys[i].name, keys[i].def[0] ? keys[i].def : "none",
                reload_word(&keys[i]), br_cfg_metavar(&keys[i]),
                range_of(&keys[i], range, sizeof(range)));
    }
}

const struct br_key *br_cfg_keys(size_t *n)
{
    *n = N_KEYS;
    return keys;
}

/* A key that shares its field with an earlier one (min-port with
 * relay-ports, auth-secret-file with auth-secret) is compared there. */
static bool shares_earlier_field(size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (br_cfg_shares_field(&keys[j], &keys[i])) {
            return true;
        }
    }
    return false;
}

size_t br_config_changed(const struct br_config *a, const struct br_config *b, enum br_reload which,
                         const char **names, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < N_KEYS; i++) {
        if (reload_of(&keys[i]) != which || shares_earlier_field(i) ||
            br_cfg_equal(a, b, &keys[i])) {
            continue;
        }
        if (n < max) {
            names[n] = keys[i].name;
        }
        n++;
    }
    return n;
}

void br_config_help(FILE *out)
{
    char left[NAME_MAX_];

    fputs("Usage: blindrelay [--config FILE] [--KEY VALUE | --KEY=VALUE]...\n"
          "\n"
          "Each key below is also a config file line: KEY=VALUE or KEY VALUE.\n"
          "Flags override the file; a repeatable key given as a flag replaces the\n"
          "file's values for that key.\n"
          "\n"
          "SIGHUP reads the configuration again: keys marked \"reload\" take their new\n"
          "value at once, keys marked \"restart\" at the next start (a reload names\n"
          "those that changed).\n"
          "\n"
          "  --config FILE                        read this config file first\n"
          "  -h, --help                           print this help\n"
          "  --print-keys                         print NAME, DEFAULT, reload|restart, VALUE\n"
          "                                       FORM and MIN-MAX (or -) per key\n",
          out);
    for (size_t i = 0; i < N_KEYS; i++) {
        snprintf(left, sizeof(left), "--%s %s", keys[i].name, br_cfg_metavar(&keys[i]));
        fprintf(out, "  %-36s default: %s; %s\n      %s\n", left,
                keys[i].def[0] ? keys[i].def : "none", reload_word(&keys[i]), keys[i].help);
    }
    fputs("\ncoturn names accepted:\n", out);
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        fprintf(out, "  %s = %s\n", aliases[i].name, aliases[i].target);
    }
}
