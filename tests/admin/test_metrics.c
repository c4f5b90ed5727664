/* Tests for admin/metrics.c: the Prometheus text exposition (format 0.0.4)
 * of a synthetic snapshot: exact lines, cumulative histogram buckets, the
 * grammar of every line, label names and values from fixed sets only, the
 * size bound; every word of every stats struct printed, and every family
 * documented in docs/operations.md. */
#include <errno.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "admin/metrics.h"

/* out[0] is a newline, so that every line, the first too, follows one */
static char text[ADMIN_METRICS_MAX + 1] = "\n";
static char *const out = text + 1;

static struct admin_snapshot sample(void)
{
    struct admin_snapshot s;

    memset(&s, 0, sizeof(s));
    s.workers = 4;
    s.turn.allocations_active = 3;
    s.turn.allocations_created = 7;
    s.turn.permissions_active = 5;
    s.turn.channels_bound = 9;
    s.turn.requests = 40;
    s.turn.binding_requests = 11;
    s.turn.peers_refused = 2;
    s.turn.peers_revoked = 5;
    for (unsigned i = 0; i < TURN_STATS_N_CODES; i++) {
        s.turn.errors[i] = turn_stats_error_codes[i] == 401   ? 6
                           : turn_stats_error_codes[i] == 486 ? 2
                                                              : 0;
    }
    s.turn.packets[TURN_DIR_TO_PEER][0] = 100;
    s.turn.packets[TURN_DIR_TO_CLIENT][0] = 99;
    s.turn.bytes[TURN_DIR_TO_CLIENT][2] = 123456789012ULL;
    s.turn.dropped[TURN_DROP_BUFFER_FULL] = 8;
    s.turn.dropped[TURN_DROP_OVERSIZED] = 13;
    s.turn.auth_key_tries = 21;
    /* not cumulative: 1 under 60 s, 2 under 300 s, 3 under 1800 s, 4 past 86400 s */
    s.turn.lifetime_buckets[0] = 1;
    s.turn.lifetime_buckets[1] = 2;
    s.turn.lifetime_buckets[3] = 3;
    s.turn.lifetime_buckets[TURN_STATS_N_LIFETIME - 1] = 4;
    s.turn.lifetime_sum = 400000;
    s.relay.connections_accepted[1] = 12;
    s.relay.connections_active = 1;
    s.relay.stream_garbage = 4;
    s.admin_closed[0] = 13;
    s.relay.stream_oversize = 5;
    s.relay.accept_paused = 6;
    s.turn.allocate_failures[TURN_ALLOC_FAIL_FDS] = 3;
    s.turn.allocate_failures[TURN_ALLOC_FAIL_PORTS] = 2;
    s.ready = 1;
    s.capacity_used[0] = 22;
    s.capacity_limit[0] = 40;
    s.capacity_used[2] = 30;
    return s;
}

static const struct admin_process proc = {
    .resident_bytes = 4096000,
    .virtual_bytes = 8192000,
    .open_fds = 17,
    .max_fds = 1024,
    .cpu_seconds = 1.5,
    .start_time = 1700000000.25,
};

static void render(const struct admin_snapshot *s)
{
    int n = admin_metrics_render(out, ADMIN_METRICS_MAX, s, &proc);

    cr_assert_gt(n, 0);
    cr_assert_eq((size_t)n, strlen(out));
    cr_assert_eq(out[n - 1], '\n', "the text ends with a newline");
}

static void has_line(const char *line)
{
    char want[512];

    snprintf(want, sizeof(want), "\n%s\n", line);
    cr_assert(strstr(text, want), "missing line: %s", line);
}

Test(metrics, exact_lines)
{
    struct admin_snapshot s = sample();

    render(&s);
    has_line("# HELP blindrelay_allocations_active Allocations that exist now.");
    has_line("# TYPE blindrelay_allocations_active gauge");
    has_line("blindrelay_allocations_active 3");
    has_line("# TYPE blindrelay_allocations_created_total counter");
    has_line("blindrelay_allocations_created_total 7");
    has_line("blindrelay_permissions_active 5");
    has_line("blindrelay_channels_bound_total 9");
    has_line("blindrelay_requests_total 40");
    has_line("blindrelay_binding_requests_total 11");
    has_line("blindrelay_peers_refused_total 2");
    has_line("blindrelay_peers_revoked_total 5");
    has_line("blindrelay_error_responses_total{code=\"401\"} 6");
    has_line("blindrelay_error_responses_total{code=\"486\"} 2");
    has_line("blindrelay_error_responses_total{code=\"437\"} 0");
    has_line("blindrelay_quota_rejections_total 2");
    has_line(
        "blindrelay_packets_relayed_total{direction=\"client_to_peer\",transport=\"udp\"} 100");
    has_line("blindrelay_packets_relayed_total{direction=\"peer_to_client\",transport=\"udp\"} 99");
    has_line("blindrelay_packets_relayed_total{direction=\"peer_to_client\",transport=\"tls\"} 0");
    has_line("blindrelay_bytes_relayed_total{direction=\"peer_to_client\",transport=\"tls\"} "
             "123456789012");
    has_line("blindrelay_packets_dropped_total{reason=\"buffer_full\"} 8");
    has_line("blindrelay_packets_dropped_total{reason=\"no_allocation\"} 0");
    has_line("blindrelay_packets_dropped_total{reason=\"oversized\"} 13");
    has_line("# TYPE blindrelay_auth_key_tries_total counter");
    has_line("blindrelay_auth_key_tries_total 21");
    has_line("blindrelay_connections_accepted_total{transport=\"tls\"} 12");
    has_line("blindrelay_connections_accepted_total{transport=\"tcp\"} 0");
    has_line("blindrelay_connections_active 1");
    has_line("blindrelay_connections_garbage_closed_total 4");
    has_line("blindrelay_admin_connections_closed_total{reason=\"make_room\"} 13");
    has_line("blindrelay_admin_connections_closed_total{reason=\"deadline\"} 0");
    has_line("# TYPE blindrelay_connections_oversize_closed_total counter");
    has_line("blindrelay_connections_oversize_closed_total 5");
    has_line("# TYPE blindrelay_accept_paused_total counter");
    has_line("blindrelay_accept_paused_total 6");
    has_line("# TYPE blindrelay_allocate_failures_total counter");
    has_line("blindrelay_allocate_failures_total{reason=\"fds\"} 3");
    has_line("blindrelay_allocate_failures_total{reason=\"ports\"} 2");
    has_line("blindrelay_allocate_failures_total{reason=\"other\"} 0");
    has_line("blindrelay_workers 4");
    has_line("blindrelay_ready 1");
    has_line("blindrelay_capacity_used{resource=\"allocations\"} 22");
    has_line("blindrelay_capacity_limit{resource=\"allocations\"} 40");
    has_line("blindrelay_capacity_used_ratio{resource=\"allocations\"} 0.5500");
    has_line("blindrelay_capacity_used{resource=\"fds\"} 30");
    has_line("blindrelay_capacity_used_ratio{resource=\"fds\"} 0.0000"); /* no limit */
    has_line("blindrelay_capacity_limit{resource=\"relay_ports\"} 0");
    has_line("blindrelay_build_info{version=\"" BR_VERSION "\",commit=\"" BR_COMMIT "\"} 1");
    has_line("process_resident_memory_bytes 4096000");
    has_line("process_virtual_memory_bytes 8192000");
    has_line("process_max_fds 1024");
    has_line("process_open_fds 17");
    has_line("process_cpu_seconds_total 1.50");
    has_line("process_start_time_seconds 1700000000.25");
    cr_assert_eq(strncmp(out, "# HELP ", 7), 0);
}

Test(metrics, histogram_is_cumulative)
{
    struct admin_snapshot s = sample();

    render(&s);
    has_line("# TYPE blindrelay_allocation_lifetime_seconds histogram");
    has_line("blindrelay_allocation_lifetime_seconds_bucket{le=\"60\"} 1");
    has_line("blindrelay_allocation_lifetime_seconds_bucket{le=\"300\"} 3");
    has_line("blindrelay_allocation_lifetime_seconds_bucket{le=\"600\"} 3");
    has_line("blindrelay_allocation_lifetime_seconds_bucket{le=\"1800\"} 6");
    has_line("blindrelay_allocation_lifetime_seconds_bucket{le=\"86400\"} 6");
    has_line("blindrelay_allocation_lifetime_seconds_bucket{le=\"+Inf\"} 10");
    has_line("blindrelay_allocation_lifetime_seconds_sum 400000");
    has_line("blindrelay_allocation_lifetime_seconds_count 10");
}

/* Buckets never decrease, one per bound from turn_stats_lifetime_bounds,
 * +Inf last and equal to _count, whatever the counts. */
Test(metrics, histogram_buckets_follow_the_bounds)
{
    struct admin_snapshot s = sample();
    unsigned long long prev = 0, v, count = 0;
    unsigned seen = 0;
    char *p;

    for (unsigned i = 0; i < TURN_STATS_N_LIFETIME; i++) {
        s.turn.lifetime_buckets[i] = 1000 - i * 7;
    }
    render(&s);
    p = out;
    while ((p = strstr(p, "blindrelay_allocation_lifetime_seconds_bucket{le=\""))) {
        char le[16];
        cr_assert_eq(sscanf(p,
                            "blindrelay_allocation_lifetime_seconds_bucket{le=\"%15[^\"]\"} %llu",
                            le, &v),
                     2);
        if (seen < TURN_STATS_N_LIFETIME - 1) {
            char want[16];
            snprintf(want, sizeof(want), "%u", (unsigned)turn_stats_lifetime_bounds[seen]);
            cr_assert_str_eq(le, want);
        } else {
            cr_assert_str_eq(le, "+Inf");
        }
        cr_assert_geq(v, prev);
        prev = v;
        seen++;
        p++;
    }
    cr_assert_eq(seen, TURN_STATS_N_LIFETIME);
    p = strstr(out, "blindrelay_allocation_lifetime_seconds_count ");
    cr_assert(p);
    cr_assert_eq(sscanf(p, "blindrelay_allocation_lifetime_seconds_count %llu", &count), 1);
    cr_assert_eq(count, prev);
}

static bool one_of(const char *s, size_t n, const char *const *set)
{
    for (; *set; set++) {
        if (strlen(*set) == n && strncmp(s, *set, n) == 0) {
            return true;
        }
    }
    return false;
}

/* Labels: names from {direction, transport, code, reason, family, le,
 * version, commit, resource}, values from the fixed sets (codes from
 * turn_stats_error_codes). */
static void check_labels(const char *line, const char *open, const char *close)
{
    static const char *const names[] = {"direction", "transport", "code",   "reason",   "family",
                                        "le",        "version",   "commit", "resource", NULL};
    static const char *const values[] = {"client_to_peer",
                                         "peer_to_client",
                                         "udp",
                                         "tcp",
                                         "tls",
                                         "malformed",
                                         "no_allocation",
                                         "no_permission",
                                         "policy",
                                         "unexpected",
                                         "buffer_full",
                                         "bandwidth",
                                         "oversized",
                                         "ipv4",
                                         "ipv6",
                                         "+Inf",
                                         BR_VERSION,
                                         BR_COMMIT,
                                         "make_room",
                                         "deadline",
                                         "fds",
                                         "ports",
                                         "other",
                                         "allocations",
                                         "relay_ports",
                                         NULL};
    const char *p = open + 1;

    while (p < close) {
        const char *eq = strchr(p, '='), *end;
        cr_assert(eq && eq < close && eq[1] == '"', "bad labels: %s", line);
        end = strchr(eq + 2, '"');
        cr_assert(one_of(p, (size_t)(eq - p), names), "unexpected label name in: %s", line);
        if (!one_of(eq + 2, (size_t)(end - eq - 2), values)) {
            char *num_end;
            unsigned long v = strtoul(eq + 2, &num_end, 10);
            bool known = num_end == end;
            bool is_code = strncmp(p, "code", 4) == 0, is_le = strncmp(p, "le", 2) == 0;
            bool listed = false;
            for (unsigned i = 0; known && is_code && i < TURN_STATS_N_CODES; i++) {
                listed |= turn_stats_error_codes[i] == v;
            }
            for (unsigned i = 0; known && is_le && i < TURN_STATS_N_LIFETIME - 1; i++) {
                listed |= turn_stats_lifetime_bounds[i] == v;
            }
            cr_assert(listed, "label value outside the fixed sets in: %s", line);
        }
        p = end + 1;
        if (*p == ',') {
            p++;
        }
    }
}

/* Every line is "# HELP name text", "# TYPE name type" or a sample
 * "name{labels} value" of the family last typed; counters end in _total;
 * each family has exactly one HELP and one TYPE, HELP first. */
Test(metrics, every_line_is_well_formed)
{
    struct admin_snapshot s = sample();
    regex_t sample_re, comment_re;
    char family[128] = "", type[16] = "";
    unsigned helps = 0, types = 0;

    cr_assert_eq(
        regcomp(&sample_re,
                "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\\})? "
                "(\\+Inf|[0-9]+(\\.[0-9]+)?)$",
                REG_EXTENDED),
        0);
    cr_assert_eq(
        regcomp(&comment_re, "^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$", REG_EXTENDED), 0);
    render(&s);
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        regmatch_t m[6];
        if (line[0] == '#') {
            cr_assert_eq(regexec(&comment_re, line, 4, m, 0), 0, "bad comment: %s", line);
            if (line[2] == 'H') {
                snprintf(family, sizeof(family), "%.*s", (int)(m[2].rm_eo - m[2].rm_so),
                         line + m[2].rm_so);
                helps++;
            } else {
                cr_assert_eq(strncmp(line + m[2].rm_so, family, strlen(family)), 0,
                             "TYPE without HELP before it: %s", line);
                snprintf(type, sizeof(type), "%s", line + m[3].rm_so);
                cr_assert(one_of(type, strlen(type),
                                 (const char *const[]){"counter", "gauge", "histogram", NULL}));
                if (strcmp(type, "counter") == 0) {
                    size_t n = strlen(family);
                    cr_assert(n > 6 && strcmp(family + n - 6, "_total") == 0,
                              "counter without _total: %s", family);
                }
                types++;
            }
            continue;
        }
        cr_assert_eq(regexec(&sample_re, line, 6, m, 0), 0, "bad sample line: %s", line);
        {
            size_t n = (size_t)(m[1].rm_eo - m[1].rm_so), f = strlen(family);
            bool ok = n == f && strncmp(line, family, f) == 0;
            if (!ok && strcmp(type, "histogram") == 0 && strncmp(line, family, f) == 0) {
                ok = one_of(line + f, n - f,
                            (const char *const[]){"_bucket", "_sum", "_count", NULL});
            }
            cr_assert(ok, "sample outside its family %s: %s", family, line);
            cr_assert(strncmp(line, "blindrelay_", 11) == 0 || strncmp(line, "process_", 8) == 0,
                      "unprefixed metric: %s", line);
        }
        if (m[2].rm_so >= 0) {
            check_labels(line, line + m[2].rm_so, line + m[2].rm_eo - 1);
        }
    }
    cr_assert_eq(helps, types);
    cr_assert_geq(helps, 25);
    regfree(&sample_re);
    regfree(&comment_re);
}

/* The largest possible figures still fit, with half the buffer to spare. */
Test(metrics, bounded_size)
{
    struct admin_snapshot s;
    struct admin_process big = proc;
    int n;

    memset(&s, 0xff, sizeof(s));
    big.cpu_seconds = 1e15;
    big.start_time = 4e9;
    n = admin_metrics_render(out, ADMIN_METRICS_MAX, &s, &big);
    cr_assert_gt(n, 0);
    cr_assert_lt(n, ADMIN_METRICS_MAX / 2, "output of %d bytes leaves too little margin", n);
}

Test(metrics, too_small_a_buffer_is_an_error)
{
    struct admin_snapshot s = sample();
    char small[512];

    cr_assert_eq(admin_metrics_render(small, sizeof(small), &s, &proc), -ENOSPC);
    cr_assert_eq(admin_metrics_render(small, 0, &s, &proc), -ENOSPC);
}

/* The figures of this very process are plausible. */
Test(metrics, process_figures)
{
    struct admin_process p = {0};
    double start = 0;

    admin_process_read(&p);
    cr_assert_eq(admin_process_start_time(&start), 0);
    cr_assert_gt(p.resident_bytes, 0);
    cr_assert_geq(p.virtual_bytes, p.resident_bytes);
    cr_assert_geq(p.open_fds, 3);
    cr_assert_gt(start, 1.5e9);
}

/* Every field of the snapshot, from the same lists that declare the structs
 * (their _Static_asserts keep any other field out): name, offset, words. */
struct field {
    const char *name;
    size_t offset, words;
};

#define FIELD_ROW(path, ...)                                                                       \
    {#path, offsetof(struct admin_snapshot, path),                                                 \
     sizeof(((struct admin_snapshot *)0)->path) / sizeof(uint64_t)},
#define TURN_ROW(field, ...) FIELD_ROW(turn.field)
#define RELAY_ROW(field, ...) FIELD_ROW(relay.field)
#define OWN_ROW(field, ...) FIELD_ROW(field)
/* clang-format off */
static const struct field fields[] = {
    TURN_STATS_SCALARS(TURN_ROW)
    TURN_STATS_ARRAYS(TURN_ROW)
    RELAY_STATS_SCALARS(RELAY_ROW)
    RELAY_STATS_ARRAYS(RELAY_ROW)
    ADMIN_SNAPSHOT_SCALARS(OWN_ROW)
    ADMIN_SNAPSHOT_ARRAYS(OWN_ROW)
};
/* clang-format on */
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static uint64_t *word(struct admin_snapshot *s, const struct field *f, size_t i)
{
    return (uint64_t *)((char *)s + f->offset) + i;
}

/* A distinct value per word, none the sum of others. */
static struct admin_snapshot every_word_set(void)
{
    struct admin_snapshot s;
    uint64_t k = 0;

    memset(&s, 0, sizeof(s));
    for (size_t f = 0; f < N_FIELDS; f++) {
        for (size_t i = 0; i < fields[f].words; i++) {
            *word(&s, &fields[f], i) = 1000003 + 7 * k++;
        }
    }
    return s;
}

/* No counter can be added and forgotten: each word of each stats struct
 * (struct turn_stats, struct relay_stats and the snapshot's own) appears as
 * a sample value, and changing it changes the output. The histogram's
 * buckets are printed cumulative, so they show by the change alone. */
Test(metrics, every_stats_word_is_printed)
{
    static char base[ADMIN_METRICS_MAX + 1];
    struct admin_snapshot s = every_word_set();
    size_t total = 0;

    render(&s);
    memcpy(base, out, strlen(out) + 1);
    for (size_t f = 0; f < N_FIELDS; f++) {
        bool cumulative = strcmp(fields[f].name, "turn.lifetime_buckets") == 0;
        for (size_t i = 0; i < fields[f].words; i++) {
            uint64_t *w = word(&s, &fields[f], i), v = *w;
            char want[32];

            snprintf(want, sizeof(want), " %llu\n", (unsigned long long)v);
            cr_assert(cumulative || strstr(base, want), "%s[%zu] (value %llu) is not printed",
                      fields[f].name, i, (unsigned long long)v);
            *w = v + 1;
            render(&s);
            cr_assert_str_neq(out, base, "%s[%zu] does not reach /metrics", fields[f].name, i);
            *w = v;
            total++;
        }
    }
    cr_assert_eq(total, TURN_STATS_WORDS + RELAY_STATS_WORDS + ADMIN_SNAPSHOT_WORDS);
}

/* Each entry of a scalar list is one family: its HELP, TYPE and sample. */
struct scalar {
    const char *name, *type, *help;
    size_t offset;
};

#define SCALAR_ROW(path, name, type, help)                                                         \
    {name, type, help, offsetof(struct admin_snapshot, path)},
#define TURN_SCALAR(field, name, type, help) SCALAR_ROW(turn.field, name, type, help)
#define RELAY_SCALAR(field, name, type, help) SCALAR_ROW(relay.field, name, type, help)
#define OWN_SCALAR(field, name, type, help) SCALAR_ROW(field, name, type, help)
/* clang-format off */
static const struct scalar scalars[] = {
    TURN_STATS_SCALARS(TURN_SCALAR)
    RELAY_STATS_SCALARS(RELAY_SCALAR)
    ADMIN_SNAPSHOT_SCALARS(OWN_SCALAR)
};
/* clang-format on */

Test(metrics, scalar_lists_print_help_type_and_value)
{
    struct admin_snapshot s = every_word_set();
    char line[512];

    render(&s);
    for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
        const struct scalar *c = &scalars[i];
        uint64_t v;

        memcpy(&v, (char *)&s + c->offset, sizeof(v));
        snprintf(line, sizeof(line), "# HELP %s %s", c->name, c->help);
        has_line(line);
        snprintf(line, sizeof(line), "# TYPE %s %s", c->name, c->type);
        has_line(line);
        snprintf(line, sizeof(line), "%s %llu", c->name, (unsigned long long)v);
        has_line(line);
    }
}

static char *read_docs(void)
{
    FILE *f = fopen(BR_SOURCE_DIR "/docs/operations.md", "r");
    static char docs[256 * 1024];
    size_t n;

    cr_assert(f, "cannot open %s", BR_SOURCE_DIR "/docs/operations.md");
    n = fread(docs, 1, sizeof(docs) - 1, f);
    cr_assert(feof(f), "docs/operations.md is larger than the test's buffer");
    fclose(f);
    docs[n] = '\0';
    return docs;
}

/* docs/operations.md's metrics tables and the output name the same
 * families with the same types: a row "| `name` | type | ..." for each
 * "# TYPE name type" printed, and nothing printed that has no row. */
Test(metrics, every_family_is_documented)
{
    struct admin_snapshot s = every_word_set();
    const char *docs = read_docs(), *p;
    char name[128], type[16], want[192];
    unsigned printed = 0, rows = 0;

    render(&s);
    for (p = text; (p = strstr(p, "\n# TYPE ")); p++) {
        cr_assert_eq(sscanf(p, "\n# TYPE %127s %15s", name, type), 2);
        snprintf(want, sizeof(want), "\n| `%s` | %s |", name, type);
        cr_assert(strstr(docs, want), "%s (%s) has no row in docs/operations.md", name, type);
        printed++;
    }
    for (p = docs; (p = strstr(p, "\n| `")); p++) {
        int end = 0;

        sscanf(p, "\n| `%127[a-z_:]` | %15[a-z] |%n", name, type, &end);
        if (end == 0 || (strcmp(type, "counter") != 0 && strcmp(type, "gauge") != 0 &&
                         strcmp(type, "histogram") != 0)) {
            continue; /* not a metrics row */
        }
        snprintf(want, sizeof(want), "\n# TYPE %s %s\n", name, type);
        cr_assert(strstr(text, want), "docs/operations.md documents %s (%s), not printed", name,
                  type);
        rows++;
    }
    cr_assert_eq(rows, printed, "docs/operations.md has %u metrics rows for %u families", rows,
                 printed);
}

/* Whether a line of doc names both `label` and `value` (in backquotes). */
static bool documented(const char *doc, const char *label, const char *value)
{
    char l[48], v[80];

    snprintf(l, sizeof(l), "`%s`", label);
    snprintf(v, sizeof(v), "`%s`", value);
    for (const char *p = doc; (p = strstr(p, l)); p++) {
        const char *start = p, *end = strchr(p, '\n');

        while (start > doc && start[-1] != '\n') {
            start--;
        }
        if (memmem(start, end ? (size_t)(end - start) : strlen(start), v, strlen(v))) {
            return true;
        }
    }
    return false;
}

/* Every label value printed (the build's version and commit aside) is
 * named on a line of docs/operations.md's Metrics section that names its
 * label: the label table, or the row of the family. */
Test(metrics, every_label_value_is_documented)
{
    struct admin_snapshot s = every_word_set();
    char *docs = read_docs(), *section = strstr(docs, "\n## Metrics\n"), *end;
    unsigned values = 0;

    cr_assert(section, "docs/operations.md has no Metrics section");
    end = strstr(section + 1, "\n## ");
    if (end) {
        *end = '\0';
    }
    render(&s);
    for (const char *p = text; (p = strchr(p, '{')); p++) {
        char label[32], value[64];
        int n = 0;

        while (sscanf(p + 1, "%31[a-z_]=\"%63[^\"]\"%n", label, value, &n) == 2) {
            p += n + 1; /* to the ',' or '}' after the value */
            if (strcmp(label, "version") == 0 || strcmp(label, "commit") == 0) {
                continue;
            }
            cr_assert(documented(section, label, value),
                      "label %s=\"%s\" is not in docs/operations.md", label, value);
            values++;
        }
    }
    cr_assert_gt(values, 30);
}
