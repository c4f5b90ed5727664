/* blindrelay-bench: running one kind of control transaction over many
 * clients with a bounded number in flight, and keeping allocations and
 * channels alive (RFC 8656 8, 9, 12: refresh before expiry). */
#include "bench_client.h"

#include <errno.h>

struct bc_drive {
    struct bc_client *cl;
    unsigned n, next, inflight, done, failed;
    enum bc_op op;
    struct bc_handlers saved;
};

static void bc_drive_launch(struct bc_drive *d, uint64_t now)
{
    while (d->inflight < d->cl[0].ctx->o->window && d->next < d->n) {
        struct bc_client *c = &d->cl[d->next++];

        if (c->fd < 0 || (d->op != BC_OP_ALLOCATE && d->op != BC_OP_REGISTER && !c->allocated) ||
            (d->op == BC_OP_RELEASE && c->op != BC_OP_NONE)) {
            d->done++;
            if (d->op != BC_OP_RELEASE) {
                d->failed++;
            }
            continue;
        }
        if (bc_op_start(c, d->op, now) != 0) {
            d->done++;
            d->failed++;
            continue;
        }
        d->inflight++;
    }
}

static void bc_drive_done_cb(struct bc_client *c, void *arg)
{
    struct bc_drive *d = arg;

    d->inflight--;
    d->done++;
    if (c->result != 0) {
        d->failed++;
    }
}

unsigned bc_drive_all(struct bc_ctx *ctx, struct bc_client *cl, unsigned n, enum bc_op op,
                      unsigned timeout_ms)
{
    struct bc_drive d = {.cl = cl, .n = n, .op = op, .saved = ctx->h};
    uint64_t now = bc_now_ns();
    uint64_t deadline = now + (uint64_t)timeout_ms * 1000000u;
    uint64_t next_tick = now;

    if (n == 0) {
        return 0;
    }
    /* no data callback meanwhile: its arg would be &d (late relayed packets
     * arriving during the teardown's releases are not counted) */
    ctx->h = (struct bc_handlers){.op_done_cb = bc_drive_done_cb, .arg = &d};
    while (d.done < n && now < deadline) {
        bc_drive_launch(&d, now);
        if (bc_ctx_poll(ctx, 5, &now) < 0) {
            break;
        }
        if (now >= next_tick) {
            bc_drive_tick(cl, d.next, now);
            next_tick = now + 10000000u;
        }
    }
    for (unsigned i = 0; i < d.next; i++) {
        if (cl[i].op != BC_OP_NONE) {
            cl[i].op = BC_OP_NONE; /* abandoned at the deadline */
            d.failed++;
        }
    }
    ctx->h = d.saved;
    return d.failed + (n - d.next);
}

void bc_drive_tick(struct bc_client *cl, unsigned n, uint64_t now)
{
    for (unsigned i = 0; i < n; i++) {
        if (cl[i].op != BC_OP_NONE) {
            bc_op_tick(&cl[i], now);
        }
    }
}

void bc_drive_refresh(struct bc_client *cl, unsigned n, uint64_t now)
{
    for (unsigned i = 0; i < n; i++) {
        struct bc_client *c = &cl[i];

        if (c->op != BC_OP_NONE || !c->allocated || c->fd < 0) {
            continue;
        }
        if (now >= c->refresh_at) {
            bc_op_start(c, BC_OP_REFRESH, now);
        } else if (c->rebind_at && now >= c->rebind_at) {
            bc_op_start(c, BC_OP_BIND, now);
        }
    }
}
