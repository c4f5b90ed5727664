/* blindrelay-bench: churn mode. --rate cycles per second, each on a fresh
 * socket (a new 5-tuple): Allocate (with its 401 round), CreatePermission
 * and ChannelBind to the client's own relayed address, Refresh LIFETIME 0
 * (--allocate-only: Allocate and Refresh 0). Each socket has its own
 * loopback source address (see bc_source), or with --one-address all share
 * one. At most --window cycles run at once; a cycle due while all slots are
 * busy is skipped and counted. --rate 0 is a closed loop: every slot starts
 * its next cycle as soon as one ends, and the rate is what completed within
 * --duration (cycles still running then are abandoned, not drained). */
#include "bench_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define BC_CHURN_DRAIN_NS 10000000000u

struct bc_churn {
    struct bc_ctx *ctx;
    struct bc_client *pool;
    unsigned *free_slots;
    unsigned n_free;
    uint64_t *started_at;
    uint64_t started, completed, completed_in, skipped, open_failed;
    uint64_t t0, end, last_done;
    uint64_t failed[BC_OP_RELEASE + 1]; /* by the op that failed */
    struct bc_hist hist;                /* cycle time, start to released */
};

static void bc_churn_end(struct bc_churn *ch, struct bc_client *c)
{
    bc_client_close(c);
    ch->free_slots[ch->n_free++] = (unsigned)(c - ch->pool);
}

/* The op of a cycle after op (which succeeded). */
static enum bc_op bc_churn_next(const struct bc_opts *o, enum bc_op op)
{
    switch (op) {
    case BC_OP_ALLOCATE:
        return o->allocate_only ? BC_OP_RELEASE : BC_OP_PERMISSION;
    case BC_OP_PERMISSION:
        return BC_OP_BIND;
    default:
        return BC_OP_RELEASE;
    }
}

static void bc_churn_done_cb(struct bc_client *c, void *arg)
{
    struct bc_churn *ch = arg;
    enum bc_op op = c->op_done;
    uint64_t now = bc_now_ns();
    enum bc_op op_next = bc_churn_next(ch->ctx->o, op);

    if (c->result != 0) {
        ch->failed[op]++;
        bc_churn_end(ch, c);
        return;
    }
    if (op == BC_OP_RELEASE) {
        ch->completed++;
        ch->completed_in += now <= ch->end;
        ch->last_done = now;
        bc_hist_add(&ch->hist, now - ch->started_at[c - ch->pool]);
        bc_churn_end(ch, c);
        return;
    }
    if (op == BC_OP_ALLOCATE) {
        c->peer = c->relayed;
    }
    if (bc_op_start(c, op_next, now) != 0) {
        ch->failed[op_next]++;
        bc_churn_end(ch, c);
    }
}

static void bc_churn_launch(struct bc_churn *ch, uint64_t count, uint64_t now)
{
    for (uint64_t i = 0; i < count; i++) {
        unsigned slot;
        struct bc_client *c;

        if (ch->n_free == 0) {
            ch->skipped++;
            continue;
        }
        slot = ch->free_slots[--ch->n_free];
        c = &ch->pool[slot];
        ch->started++;
        ch->started_at[slot] = now;
        if (bc_client_open(ch->ctx, c, slot, false) != 0 ||
            bc_op_start(c, BC_OP_ALLOCATE, now) != 0) {
            ch->open_failed++;
            bc_churn_end(ch, c);
        }
    }
}

static uint64_t bc_churn_failed(const struct bc_churn *ch)
{
    uint64_t failed = ch->open_failed;

    for (unsigned i = 0; i <= BC_OP_RELEASE; i++) {
        failed += ch->failed[i];
    }
    return failed;
}

static void bc_churn_loop(struct bc_churn *ch, const struct bc_opts *o)
{
    uint64_t start = ch->t0, now = start, slots = 0, next_ctl = start, prog = start;
    uint64_t end = ch->end, prev = 0;
    uint64_t drain = o->rate ? BC_CHURN_DRAIN_NS : 0;
    unsigned n = o->window;

    while (!bc_stop_signal && (now < end || ch->n_free < n) && now < end + drain) {
        if (o->rate == 0 && now < end) {
            bc_churn_launch(ch, ch->n_free, now);
        }
        if (bc_ctx_poll(ch->ctx, 50, &now) < 0) {
            break;
        }
        if (ch->ctx->ticked && now < end && o->rate) {
            uint64_t due = bc_pace_due(o->rate, now - start);

            ch->ctx->ticked = false;
            bc_churn_launch(ch, due - slots, now);
            slots = due;
        }
        if (now >= next_ctl) {
            bc_drive_tick(ch->pool, n, now);
            next_ctl = now + 10000000u;
        }
        if (now - prog >= 1000000000u) {
            bc_progress(o,
                        "[churn] setups=%.0f/s completed=%llu failed=%llu skipped=%llu "
                        "inflight=%u p99_ms=%.2f",
                        (double)(ch->completed - prev) * 1e9 / (double)(now - prog),
                        (unsigned long long)ch->completed, (unsigned long long)bc_churn_failed(ch),
                        (unsigned long long)ch->skipped, n - ch->n_free,
                        bc_hist_quantile(&ch->hist, 0.99) / 1e6);
            prev = ch->completed;
            prog = now;
        }
    }
}

/* Setups per second over the time from the first start to the last release. */
static void bc_churn_report(struct bc_churn *ch, const struct bc_opts *o)
{
    struct bc_report *r = bc_report_new("churn", o);
    uint64_t failed = bc_churn_failed(ch);
    double secs = ch->last_done > ch->t0 ? (double)(ch->last_done - ch->t0) / 1e9 : o->duration;
    uint64_t done = ch->completed;

    if (o->rate == 0) { /* closed loop: what completed within the run */
        secs = o->duration;
        done = ch->completed_in;
    }
    bc_report_add(r, "target_rate", "%u", o->rate);
    bc_report_add(r, "source", "%s", o->one_address ? "one-address" : "per-address");
    bc_report_add(r, "cycle", "%s", o->allocate_only ? "allocate" : "full");
    bc_report_add(r, "window", "%u", o->window);
    bc_report_add(r, "duration_s", "%.2f", secs);
    bc_report_add(r, "started", "%llu", (unsigned long long)ch->started);
    bc_report_add(r, "completed", "%llu", (unsigned long long)done);
    bc_report_add(r, "setups_per_s", "%.1f", (double)done / secs);
    bc_report_add(r, "failed", "%llu", (unsigned long long)failed);
    bc_report_add(r, "failed_allocate", "%llu", (unsigned long long)ch->failed[BC_OP_ALLOCATE]);
    bc_report_add(r, "failed_permission", "%llu", (unsigned long long)ch->failed[BC_OP_PERMISSION]);
    bc_report_add(r, "failed_bind", "%llu", (unsigned long long)ch->failed[BC_OP_BIND]);
    bc_report_add(r, "failed_release", "%llu", (unsigned long long)ch->failed[BC_OP_RELEASE]);
    bc_report_add(r, "skipped", "%llu", (unsigned long long)ch->skipped);
    bc_report_add(r, "unfinished", "%u", o->window - ch->n_free);
    bc_report_hist(r, "cycle", &ch->hist);
    bc_report_ctl(r, ch->ctx);
    bc_report_print(r, o->json);
}

int bc_run_churn(struct bc_ctx *ctx, const struct bc_opts *o)
{
    struct bc_churn ch = {.ctx = ctx};
    int rc = 1;

    ch.pool = calloc(o->window, sizeof(*ch.pool));
    ch.free_slots = calloc(o->window, sizeof(*ch.free_slots));
    ch.started_at = calloc(o->window, sizeof(*ch.started_at));
    if (!ch.pool || !ch.free_slots || !ch.started_at || bc_ctx_ticker(ctx, 1000000u) != 0) {
        fprintf(stderr, "blindrelay-bench: churn: out of memory or timerfd\n");
        goto out;
    }
    bc_raise_nofile(o->window + 64);
    for (unsigned i = 0; i < o->window; i++) {
        ch.pool[i].fd = -1;
        ch.free_slots[ch.n_free++] = o->window - 1 - i;
    }
    ctx->h = (struct bc_handlers){.op_done_cb = bc_churn_done_cb, .arg = &ch};
    ctx->rotate_src = true;
    ch.t0 = bc_now_ns();
    ch.end = ch.t0 + (uint64_t)(o->duration * 1e9);
    bc_churn_loop(&ch, o);
    for (unsigned i = 0; i < o->window; i++) {
        bc_client_close(&ch.pool[i]);
    }
    bc_churn_report(&ch, o);
    rc = 0;
out:
    free(ch.pool);
    free(ch.free_slots);
    free(ch.started_at);
    return rc;
}
