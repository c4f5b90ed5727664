/* Internal to relay/config*.c: the key descriptor, the parse state shared by
 * the file and flag readers, and the value parsers behind each key type. */
#ifndef RELAY_CONFIG_PARSE_H
#define RELAY_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "relay/config.h"

/* Where a value came from. A repeatable key set from a later source
 * replaces the values of an earlier one; within one source it appends. */
enum br_src { BR_SRC_DEFAULT, BR_SRC_FILE, BR_SRC_FLAG };

enum br_type {
    BR_T_ADDRS,       /* ADDR[:PORT], repeatable; array at off, size_t count at off2 */
    BR_T_IP,          /* one IP per family; IPv4 at off, IPv6 at off2 */
    BR_T_PORTS,       /* MIN-MAX; uint16_t at off and off2 */
    BR_T_PORT,        /* one end of the port range; uint16_t at off */
    BR_T_REALM,       /* char[128] at off */
    BR_T_SECRET,      /* struct br_strlist at off; value never printed */
    BR_T_SECRET_FILE, /* lines of a file into the br_strlist at off */
    BR_T_USER,        /* NAME:PASSWORD into the br_strlist at off; never printed */
    BR_T_CIDR,        /* ADDR[/PREFIX] (or coturn's FIRST-LAST) into the br_strlist at off */
    BR_T_UINT,        /* uint32_t at off, min..max; with off2, "auto" sets the bool there */
    BR_T_BOOL,        /* bool at off; a bare key means true */
    BR_T_PATH,        /* char[BR_PATH_MAX] at off */
    BR_T_ADMIN,       /* ADDR[:PORT] into the turn_addr at off; "" = off (family 0) */
};

/* One configuration key: the single source of parsing, defaults and help. */
struct br_key {
    const char *name;
    enum br_type type;
    size_t off, off2;      /* field offsets in struct br_config (see enum br_type) */
    uint32_t min, max;     /* numeric range (BR_T_UINT, BR_T_PORT, BR_T_PORTS) */
    uint16_t port;         /* default port (BR_T_ADDRS, BR_T_ADMIN) */
    const char *def;       /* default as config text, list items space-separated; "" = none */
    const char *help;      /* one line */
    enum br_reload reload; /* what SIGHUP does with a changed value; never unmarked */
};

/* Where the value being parsed was written, for error lines. */
struct br_parse {
    struct br_config *cfg;
    FILE *err;
    enum br_src src;
    const char *file;  /* config file path (BR_SRC_FILE) */
    unsigned line;     /* line in file (BR_SRC_FILE) */
    const char *typed; /* key name as the user wrote it (it may be an alias) */
};

static inline void *br_cfg_field(struct br_config *cfg, size_t off)
{
    return (char *)cfg + off;
}

/* Strips spaces, tabs and line ends from both ends, in place. */
char *br_cfg_trim(char *s);

/* Strict decimal: digits only, no sign or space, at most UINT32_MAX.
 * Returns 0 or -EINVAL. */
int br_cfg_parse_u32(const char *text, uint32_t *out);

/* Writes "blindrelay: FILE:LINE: KEY: REASON" (or "--KEY: REASON") to p->err.
 * Returns -EINVAL. */
int br_cfg_fail(const struct br_parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copies val into buf for quoting in an error: control bytes become '?',
 * long values are cut. Never call it on a secret or password. */
const char *br_cfg_quote(char *buf, size_t size, const char *val);

/* Parses val (NULL for a bare key) into the field(s) of k. On error writes
 * one line through br_cfg_fail and returns a negative errno. */
int br_cfg_set(const struct br_parse *p, const struct br_key *k, const char *val);

/* Appends a copy of val to l; fails past BR_MAX_LIST. */
int br_cfg_strlist_add(const struct br_parse *p, struct br_strlist *l, const char *val);

/* BR_T_SECRET_FILE and BR_T_CIDR parsers (relay/config_lists.c). */
int br_cfg_secret_file(const struct br_parse *p, const struct br_key *k, const char *path);
int br_cfg_cidr(const struct br_parse *p, const struct br_key *k, const char *val);

/* Empties the field(s) of k, cleansing strings. */
void br_cfg_clear(struct br_config *cfg, const struct br_key *k);

/* Whether the field(s) of k hold the same value in a and b. */
bool br_cfg_equal(const struct br_config *a, const struct br_config *b, const struct br_key *k);

/* Whether a and b write a field in common (relay-ports and max-port). */
bool br_cfg_shares_field(const struct br_key *a, const struct br_key *b);

/* Keys whose values a later source replaces rather than overwrites one by one. */
bool br_cfg_is_list(const struct br_key *k);

/* The key table, for tests: every key in order, count in *n. */
const struct br_key *br_cfg_keys(size_t *n);

/* "ADDR[:PORT]", "N", ... for --help. */
const char *br_cfg_metavar(const struct br_key *k);

#endif
