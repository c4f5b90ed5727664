/* blindrelay-bench: idle mode, for memory per allocation. K allocations
 * (one socket each) are made, "ready" is printed, they are held and
 * refreshed (RFC 8656 8) until SIGINT/SIGTERM or --duration, then released
 * with Refresh LIFETIME 0. */
#include "bench_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bc_idle {
    uint64_t refreshes, refresh_failed;
};

static void bc_idle_done_cb(struct bc_client *c, void *arg)
{
    struct bc_idle *st = arg;

    st->refreshes++;
    if (c->result != 0) {
        st->refresh_failed++;
    }
}

static void bc_idle_hold(struct bc_ctx *ctx, struct bc_client *cl, unsigned n, double secs)
{
    uint64_t now = bc_now_ns(), end = secs > 0 ? now + (uint64_t)(secs * 1e9) : UINT64_MAX;
    uint64_t next = now;

    while (!bc_stop_signal && now < end) {
        if (bc_ctx_poll(ctx, 100, &now) < 0) {
            break;
        }
        if (now >= next) {
            bc_drive_tick(cl, n, now);
            bc_drive_refresh(cl, n, now);
            next = now + 50000000u;
        }
    }
}

static unsigned bc_idle_open(struct bc_ctx *ctx, struct bc_client *cl, unsigned n)
{
    unsigned failed = 0;

    for (unsigned i = 0; i < n; i++) {
        if (bc_client_open(ctx, &cl[i], i, false) != 0) {
            cl[i].fd = -1;
            failed++;
        }
    }
    return failed;
}

int bc_run_idle(struct bc_ctx *ctx, const struct bc_opts *o)
{
    struct bc_client *cl = calloc(o->allocs, sizeof(*cl));
    struct bc_idle st = {0};
    struct bc_report *r;
    unsigned failed, released_failed, held = 0;
    uint64_t t0 = bc_now_ns(), t1, t2;

    if (!cl) {
        fprintf(stderr, "blindrelay-bench: idle: out of memory\n");
        return 1;
    }
    bc_raise_nofile(o->allocs + 64);
    /* K clients, as K users behind their own addresses: a server that
     * rate-limits challenges per source prefix sees them as such */
    ctx->rotate_src = true;
    failed = bc_idle_open(ctx, cl, o->allocs);
    failed += bc_drive_all(ctx, cl, o->allocs, BC_OP_ALLOCATE, 60000);
    t1 = bc_now_ns();
    for (unsigned i = 0; i < o->allocs; i++) {
        held += cl[i].allocated;
    }
    printf("ready allocations=%u failed=%u setup_ms=%.1f\n", held, o->allocs - held,
           (double)(t1 - t0) / 1e6);
    fflush(stdout);
    ctx->h = (struct bc_handlers){.op_done_cb = bc_idle_done_cb, .arg = &st};
    bc_idle_hold(ctx, cl, o->allocs, o->duration);
    t2 = bc_now_ns();
    ctx->h = (struct bc_handlers){0};
    released_failed = bc_drive_all(ctx, cl, o->allocs, BC_OP_RELEASE, 30000);
    r = bc_report_new("idle", o);
    bc_report_add(r, "allocations", "%u", held);
    bc_report_add(r, "failed", "%u", o->allocs - held);
    bc_report_add(r, "setup_ms", "%.1f", (double)(t1 - t0) / 1e6);
    bc_report_add(r, "setups_per_s", "%.1f", (double)held / ((double)(t1 - t0) / 1e9));
    bc_report_add(r, "held_s", "%.1f", (double)(t2 - t1) / 1e9);
    bc_report_add(r, "refreshes", "%llu", (unsigned long long)st.refreshes);
    bc_report_add(r, "refresh_failed", "%llu", (unsigned long long)st.refresh_failed);
    bc_report_add(r, "release_failed", "%u", released_failed);
    bc_report_ctl(r, ctx);
    bc_report_print(r, o->json);
    for (unsigned i = 0; i < o->allocs; i++) {
        bc_client_close(&cl[i]);
    }
    free(cl);
    return failed ? 1 : 0;
}
