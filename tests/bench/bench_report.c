/* blindrelay-bench: output. Progress lines go to stderr once a second;
 * the final summary is one line of key=value pairs on stdout (a script
 * splits on spaces and '='), or one JSON object with --json. */
#include "bench_load.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BC_REPORT_MAX 128

struct bc_report {
    unsigned n;
    struct {
        char key[40];
        char val[80];
    } kv[BC_REPORT_MAX];
};

void bc_progress(const struct bc_opts *o, const char *fmt, ...)
{
    va_list ap;

    if (o->quiet) {
        return;
    }
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void bc_report_add(struct bc_report *r, const char *key, const char *fmt, ...)
{
    va_list ap;

    if (!r || r->n == BC_REPORT_MAX) {
        return;
    }
    snprintf(r->kv[r->n].key, sizeof(r->kv[0].key), "%s", key);
    va_start(ap, fmt);
    vsnprintf(r->kv[r->n].val, sizeof(r->kv[0].val), fmt, ap);
    va_end(ap);
    r->n++;
}

struct bc_report *bc_report_new(const char *mode, const struct bc_opts *o)
{
    struct bc_report *r = calloc(1, sizeof(*r));
    char addr[64];

    bc_report_add(r, "mode", "%s", mode);
    bc_report_add(r, "server", "%s", turn_addr_format(&o->server, addr, sizeof(addr)));
    bc_report_add(r, "transport", "%s", o->raw ? "raw-udp" : o->tcp ? "tcp" : "udp");
    if (o->mode == BC_STEADY || o->mode == BC_RAMP || o->mode == BC_FLOOD) {
        bc_report_add(r, "pairs", "%u", o->pairs);
        bc_report_add(r, "size", "%u", o->size);
        bc_report_add(r, "burst", "%u", o->burst);
        bc_report_add(r, "rate", "%u", o->rate);
    }
    return r;
}

void bc_report_hist(struct bc_report *r, const char *prefix, const struct bc_hist *h)
{
    static const struct {
        const char *name;
        double q;
    } qs[] = {{"p50", 0.5}, {"p99", 0.99}, {"p999", 0.999}};
    char key[40];

    for (unsigned i = 0; i < 3; i++) {
        snprintf(key, sizeof(key), "%s_%s_us", prefix, qs[i].name);
        bc_report_add(r, key, "%.1f", (double)bc_hist_quantile(h, qs[i].q) / 1e3);
    }
    snprintf(key, sizeof(key), "%s_max_us", prefix);
    bc_report_add(r, key, "%.1f", (double)h->max / 1e3);
    snprintf(key, sizeof(key), "%s_mean_us", prefix);
    bc_report_add(r, key, "%.1f", h->count ? (double)h->sum / (double)h->count / 1e3 : 0);
}

void bc_report_ctl(struct bc_report *r, const struct bc_ctx *ctx)
{
    bc_report_add(r, "ctl_requests", "%llu", (unsigned long long)ctx->st.requests);
    bc_report_add(r, "ctl_retransmits", "%llu", (unsigned long long)ctx->st.retransmits);
    bc_report_add(r, "ctl_timeouts", "%llu", (unsigned long long)ctx->st.timeouts);
    bc_report_add(r, "ctl_errors", "%llu", (unsigned long long)ctx->st.errors);
    bc_report_add(r, "tcp_closed", "%llu", (unsigned long long)ctx->st.tcp_closed);
    bc_report_add(r, "garbage", "%llu", (unsigned long long)ctx->st.garbage);
    for (unsigned code = 0; code < 700; code++) {
        char key[16];

        if (ctx->st.by_code[code]) {
            snprintf(key, sizeof(key), "error_%u", code);
            bc_report_add(r, key, "%llu", (unsigned long long)ctx->st.by_code[code]);
        }
    }
    bc_report_add(r, "stray", "%llu", (unsigned long long)ctx->st.stray);
}

/* A value is a JSON number when strtod takes all of it. */
static bool bc_is_number(const char *v)
{
    char *end;

    if (!((*v >= '0' && *v <= '9') || *v == '-')) {
        return false;
    }
    strtod(v, &end);
    return *end == '\0';
}

void bc_report_print(struct bc_report *r, bool json)
{
    if (!r) {
        return;
    }
    if (json) {
        fputc('{', stdout);
    }
    for (unsigned i = 0; i < r->n; i++) {
        const char *sep = i ? (json ? ", " : " ") : "";

        if (!json) {
            printf("%s%s=%s", sep, r->kv[i].key, r->kv[i].val);
        } else if (bc_is_number(r->kv[i].val)) {
            printf("%s\"%s\": %s", sep, r->kv[i].key, r->kv[i].val);
        } else {
            printf("%s\"%s\": \"%s\"", sep, r->kv[i].key, r->kv[i].val);
        }
    }
    fputs(json ? "}\n" : "\n", stdout);
    fflush(stdout);
    free(r);
}
