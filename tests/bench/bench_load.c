/* blindrelay-bench: pairs of TURN clients (relay to relay: A -> server ->
 * A's relay -> B's relay -> server -> B) carrying paced SRTP as ChannelData,
 * every received packet authenticated and accounted. */
#include "bench_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "turn/frame.h"
#include "turn/stun_msg.h"

#define BC_SETUP_MS 30000
#define BC_RAW_HDR 4

static void bc_load_data_cb(struct bc_client *c, uint8_t *payload, size_t len, uint64_t rx_ns,
                            void *arg)
{
    struct bc_load *l = arg;
    struct bc_rx_info info;

    if (!c->flow) {
        return;
    }
    switch (bc_flow_unprotect(c->flow, payload, len, &info)) {
    case BC_RX_OK:
        break;
    case BC_RX_AUTH_FAIL:
        l->auth_fail++;
        return;
    case BC_RX_REPLAY:
        l->dup++;
        return;
    default:
        l->bad++;
        return;
    }
    struct bc_seq *s = bc_flow_seq(c->flow);
    uint64_t reordered = s->reordered;

    if (!bc_seq_add(s, info.seq)) {
        l->dup++;
        return;
    }
    l->reordered += s->reordered - reordered;
    if (info.step < l->nsteps) {
        struct bc_step *st = &l->steps[info.step];

        st->recv++;
        bc_hist_add(&st->hist, rx_ns > info.sent_ns ? rx_ns - info.sent_ns : 0);
    }
}

static int bc_load_open(struct bc_load *l)
{
    for (unsigned i = 0; i < l->n; i++) {
        int err = bc_client_open(l->ctx, &l->cl[i], i, true);

        if (err) {
            fprintf(stderr, "blindrelay-bench: socket %u: %s\n", i, strerror(-err));
            return err;
        }
    }
    for (unsigned i = 0; i < l->n; i += 2) {
        if (bc_flow_pair(&l->cl[i].flow, &l->cl[i + 1].flow) != 0) {
            return -EIO;
        }
        l->cl[i].peer_id = (uint16_t)(i + 1);
        l->cl[i + 1].peer_id = (uint16_t)i;
    }
    return 0;
}

/* Allocate all, then CreatePermission and ChannelBind to the partner. */
static unsigned bc_load_turn_setup(struct bc_load *l)
{
    unsigned failed = bc_drive_all(l->ctx, l->cl, l->n, BC_OP_ALLOCATE, BC_SETUP_MS);

    if (failed) {
        return failed;
    }
    for (unsigned i = 0; i < l->n; i++) {
        l->cl[i].peer = l->cl[i ^ 1u].relayed;
    }
    failed = bc_drive_all(l->ctx, l->cl, l->n, BC_OP_PERMISSION, BC_SETUP_MS);
    if (failed == 0) {
        failed = bc_drive_all(l->ctx, l->cl, l->n, BC_OP_BIND, BC_SETUP_MS);
    }
    return failed;
}

int bc_load_setup(struct bc_load *l, struct bc_ctx *ctx, const struct bc_opts *o)
{
    uint64_t t0 = bc_now_ns();
    int err;

    memset(l, 0, sizeof(*l));
    l->ctx = ctx;
    l->o = o;
    l->n = 2 * o->pairs;
    l->cl = calloc(l->n, sizeof(*l->cl));
    l->steps = calloc(BC_MAX_STEPS, sizeof(*l->steps));
    l->txbuf = calloc(BC_BATCH, BC_PKT_BUF);
    if (!l->cl || !l->steps || !l->txbuf) {
        return -ENOMEM;
    }
    for (unsigned i = 0; i < l->n; i++) {
        l->cl[i].fd = -1;
    }
    bc_raise_nofile(l->n + 64);
    err = bc_load_open(l);
    if (err) {
        return err;
    }
    ctx->h = (struct bc_handlers){.data_cb = bc_load_data_cb, .arg = l};
    l->setup_failed = o->raw ? bc_drive_all(ctx, l->cl, l->n, BC_OP_REGISTER, BC_SETUP_MS)
                             : bc_load_turn_setup(l);
    l->setup_ns = bc_now_ns() - t0;
    return l->setup_failed ? -EPROTO : 0;
}

void bc_load_teardown(struct bc_load *l)
{
    if (l->cl && !l->o->raw) {
        l->release_failed = bc_drive_all(l->ctx, l->cl, l->n, BC_OP_RELEASE, 3000);
    }
    for (unsigned i = 0; l->cl && i < l->n; i++) {
        bc_client_close(&l->cl[i]);
        bc_flow_free(l->cl[i].flow);
    }
    free(l->cl);
    free(l->txbuf);
    l->cl = NULL;
    l->txbuf = NULL;
}

void bc_load_free(struct bc_load *l)
{
    bc_load_teardown(l);
    free(l->steps);
    l->steps = NULL;
}

/* Builds count packets of c into txbuf/iov; returns the bytes (TCP: one
 * contiguous run of padded frames in txbuf). */
static size_t bc_load_build(struct bc_load *l, struct bc_client *c, unsigned count, uint8_t step)
{
    const struct bc_opts *o = l->o;
    uint8_t *p = l->txbuf[0];
    size_t total = 0;

    for (unsigned i = 0; i < count; i++) {
        uint8_t *f = o->tcp ? p + total : l->txbuf[i];
        size_t flen;

        if (bc_flow_protect(c->flow, f + BC_RAW_HDR, o->size, step, bc_wall_ns()) != 0) {
            l->bad++;
        }
        if (o->raw) {
            f[0] = 2;
            f[1] = 0;
            f[2] = (uint8_t)(c->peer_id >> 8);
            f[3] = (uint8_t)c->peer_id;
            flen = BC_RAW_HDR + o->size;
        } else {
            flen = turn_frame_channel(f, BC_CHANNEL, (uint16_t)o->size, o->tcp);
        }
        l->iov[i].iov_base = f;
        l->iov[i].iov_len = flen;
        total += flen;
    }
    return total;
}

/* Sends count packets on client c; accounts them in step st. */
static void bc_load_send(struct bc_load *l, struct bc_client *c, uint64_t count)
{
    struct bc_step *st = &l->steps[l->nsteps - 1];

    while (count > 0 && c->fd >= 0) {
        unsigned k = count < BC_BATCH ? (unsigned)count : BC_BATCH;
        size_t bytes = bc_load_build(l, c, k, (uint8_t)(l->nsteps - 1));
        unsigned sent;

        if (l->o->tcp) {
            sent = bc_client_send(c, l->txbuf[0], bytes) == 0 ? k : 0;
        } else {
            sent = bc_client_sendmmsg(c, l->iov, k);
        }
        st->sent += sent;
        st->drops += k - sent;
        l->ctx->send_drops += k - sent;
        count -= k;
    }
}

void bc_load_tick(struct bc_load *l, uint64_t now)
{
    struct bc_step *st;
    uint64_t due, burst, total;

    if (!l->sending || l->nsteps == 0) {
        return;
    }
    st = &l->steps[l->nsteps - 1];
    total = bc_pace_due(st->rate, st->end_ns - st->start_ns);
    due = now >= st->end_ns ? total : bc_pace_due(st->rate, now - st->start_ns);
    burst = bc_pace_burst(st->rate, l->n);
    if (due - st->slots > burst) {
        st->skipped += due - st->slots - burst;
        st->slots = due - burst;
    }
    if (l->o->burst > 1) {
        /* slots in frames of burst: frame f belongs to sender f % n */
        for (uint64_t k = st->slots; k < due;) {
            uint64_t frame = k / l->o->burst, end = (frame + 1) * l->o->burst;

            end = end < due ? end : due;
            bc_load_send(l, &l->cl[frame % l->n], end - k);
            k = end;
        }
    } else if (due - st->slots < l->n) {
        for (uint64_t k = st->slots; k < due; k++) {
            bc_load_send(l, &l->cl[k % l->n], 1);
        }
    } else {
        for (unsigned s = 0; s < l->n; s++) {
            bc_load_send(l, &l->cl[s], bc_pace_share(st->slots, due, l->n, s));
        }
    }
    st->slots = due;
    if (now >= st->end_ns) {
        st->cpu_end = bc_cpu_seconds();
        l->sending = false;
    }
}

void bc_load_step(struct bc_load *l, unsigned rate, double secs, uint64_t now)
{
    struct bc_step *st = &l->steps[l->nsteps++];

    st->rate = rate;
    st->start_ns = now;
    st->end_ns = now + (uint64_t)(secs * 1e9);
    st->cpu_start = bc_cpu_seconds();
    l->sending = true;
}
