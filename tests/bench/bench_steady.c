/* blindrelay-bench: the load loop (receive, paced sends on timerfd ticks,
 * retransmits, refreshes, a progress line a second) and steady mode: one
 * step at --rate for --duration, then --grace-ms for late packets. */
#include "bench_load.h"

#include <stdio.h>
#include <string.h>

static void bc_load_progress(struct bc_load *l, uint64_t now)
{
    uint64_t recv, sent = bc_load_totals(l, &recv, NULL);
    double cpu = bc_cpu_seconds();
    double dt = (double)(now - l->prog_at) / 1e9;
    const struct bc_step *st = &l->steps[l->nsteps - 1];

    bc_progress(l->o,
                "[%s] step=%u target=%u/s sent=%.0f/s recv=%.0f/s total_sent=%llu "
                "total_recv=%llu auth_fail=%llu p99_us=%.1f gen_cpu=%.0f%%",
                l->o->mode == BC_RAMP ? "ramp" : "steady", l->nsteps - 1, st->rate,
                (double)(sent - l->prog_sent) / dt, (double)(recv - l->prog_recv) / dt,
                (unsigned long long)sent, (unsigned long long)recv,
                (unsigned long long)l->auth_fail, bc_hist_quantile(&st->hist, 0.99) / 1e3,
                100.0 * (cpu - l->prog_cpu) / dt);
    l->prog_at = now;
    l->prog_sent = sent;
    l->prog_recv = recv;
    l->prog_cpu = cpu;
}

uint64_t bc_load_totals(const struct bc_load *l, uint64_t *recv, struct bc_hist *h)
{
    uint64_t sent = 0;

    *recv = 0;
    for (unsigned i = 0; i < l->nsteps; i++) {
        sent += l->steps[i].sent;
        *recv += l->steps[i].recv;
        if (h) {
            bc_hist_merge(h, &l->steps[i].hist);
        }
    }
    return sent;
}

void bc_load_run_until(struct bc_load *l, uint64_t until, bool (*stop)(struct bc_load *l))
{
    uint64_t now = bc_now_ns(), next_ctl = now, next_refresh = now;

    if (l->prog_at == 0) {
        l->prog_at = now;
        l->prog_cpu = bc_cpu_seconds();
    }
    while (now < until && !bc_stop_signal) {
        if (bc_ctx_poll(l->ctx, 50, &now) < 0) {
            break;
        }
        if (l->ctx->ticked) {
            l->ctx->ticked = false;
            bc_load_tick(l, now);
            if (stop && stop(l)) {
                break;
            }
        }
        if (now >= next_ctl) {
            bc_drive_tick(l->cl, l->n, now);
            next_ctl = now + 10000000u;
        }
        if (now >= next_refresh && !l->o->raw) {
            bc_drive_refresh(l->cl, l->n, now);
            next_refresh = now + 100000000u;
        }
        if (now - l->prog_at >= 1000000000u) {
            bc_load_progress(l, now);
        }
    }
}

/* Keys common to steady and ramp. */
void bc_load_report_common(struct bc_report *r, struct bc_load *l)
{
    struct bc_hist h;
    uint64_t recv, sent;

    memset(&h, 0, sizeof(h));
    sent = bc_load_totals(l, &recv, &h);
    bc_report_add(r, "sent", "%llu", (unsigned long long)sent);
    bc_report_add(r, "received", "%llu", (unsigned long long)recv);
    bc_report_add(r, "lost", "%llu", (unsigned long long)(sent > recv ? sent - recv : 0));
    bc_report_add(r, "lost_pct", "%.4f", sent ? 100.0 * (double)(sent - recv) / (double)sent : 0);
    bc_report_add(r, "auth_fail", "%llu", (unsigned long long)l->auth_fail);
    bc_report_add(r, "duplicates", "%llu", (unsigned long long)l->dup);
    bc_report_add(r, "reordered", "%llu", (unsigned long long)l->reordered);
    bc_report_add(r, "bad", "%llu", (unsigned long long)l->bad);
    bc_report_hist(r, "lat", &h);
    bc_report_add(r, "send_drops", "%llu", (unsigned long long)l->ctx->send_drops);
    bc_report_add(r, "setup_ms", "%.1f", (double)l->setup_ns / 1e6);
    bc_report_add(r, "release_failed", "%u", l->release_failed);
    bc_report_ctl(r, l->ctx);
}

int bc_load_begin(struct bc_load *l, struct bc_ctx *ctx, const struct bc_opts *o)
{
    int err = bc_load_setup(l, ctx, o);

    if (err == 0) {
        err = bc_ctx_ticker(ctx, 1000000u);
    }
    if (err) {
        fprintf(stderr,
                "blindrelay-bench: setup failed: %u of %u clients (%s; %llu timed out, "
                "%llu error responses, %llu connections closed)\n",
                l->setup_failed, l->n, strerror(-err), (unsigned long long)ctx->st.timeouts,
                (unsigned long long)ctx->st.errors, (unsigned long long)ctx->st.tcp_closed);
        bc_load_teardown(l);
        bc_load_free(l);
    }
    return err;
}

int bc_run_steady(struct bc_ctx *ctx, const struct bc_opts *o)
{
    struct bc_load l;
    struct bc_report *r;
    struct bc_step *st;
    double secs;

    if (bc_load_begin(&l, ctx, o) != 0) {
        return 1;
    }
    bc_load_step(&l, o->rate, o->duration, bc_now_ns());
    st = &l.steps[0];
    bc_load_run_until(&l, st->end_ns + (uint64_t)o->grace_ms * 1000000u, NULL);
    if (l.sending) { /* interrupted */
        st->end_ns = bc_now_ns();
        st->cpu_end = bc_cpu_seconds();
    }
    secs = (double)(st->end_ns - st->start_ns) / 1e9;
    bc_load_teardown(&l);
    r = bc_report_new("steady", o);
    bc_report_add(r, "duration_s", "%.2f", secs);
    bc_report_add(r, "send_rate", "%.0f", (double)st->sent / secs);
    bc_report_add(r, "skipped", "%llu", (unsigned long long)st->skipped);
    bc_report_add(r, "gen_cpu_s", "%.3f", st->cpu_end - st->cpu_start);
    bc_report_add(r, "gen_cpu_pct", "%.1f", 100.0 * (st->cpu_end - st->cpu_start) / secs);
    bc_load_report_common(r, &l);
    bc_report_print(r, o->json);
    bc_load_free(&l);
    return 0;
}
