/* blindrelay-bench: ramp mode. The rate rises by --step-pct each
 * --step-secs; a step is judged --grace-ms after it ends (while the next one
 * runs). The ramp stops at the first step losing --loss-pct or more and
 * names the bound: "server" when the generator sent what was due,
 * "generator" when it could not (or its CPU was saturated), "max-rate".
 * best_rate is the highest step under the threshold that the generator
 * actually sent (at least 98% of its slots). */
#include "bench_load.h"

#include <stdio.h>
#include <string.h>

struct bc_ramp {
    int failed; /* step that lost too much, or -1 */
    int best;   /* highest step under the loss threshold, or -1 */
    int behind; /* consecutive steps the generator fell behind */
    const char *bound;
};

static double bc_step_loss(const struct bc_step *st)
{
    return st->sent ? 100.0 * (double)(st->sent - st->recv) / (double)st->sent : 0;
}

/* What was due in the step, sent or not. */
static uint64_t bc_step_target(const struct bc_step *st)
{
    return bc_pace_due(st->rate, st->end_ns - st->start_ns);
}

static double bc_step_cpu(const struct bc_step *st)
{
    return (st->cpu_end - st->cpu_start) / ((double)(st->end_ns - st->start_ns) / 1e9);
}

static bool bc_step_kept_up(const struct bc_step *st)
{
    return (double)st->sent >= 0.98 * (double)bc_step_target(st);
}

static void bc_ramp_judge(struct bc_load *l, unsigned k)
{
    struct bc_ramp *rs = l->mode;
    struct bc_step *st = &l->steps[k];
    double loss = bc_step_loss(st);

    st->evaluated = true;
    bc_progress(l->o,
                "[ramp] step=%u rate=%u sent=%llu recv=%llu loss=%.3f%% sent_of_target=%.1f%% "
                "gen_cpu=%.0f%% p50_us=%.1f p99_us=%.1f",
                k, st->rate, (unsigned long long)st->sent, (unsigned long long)st->recv, loss,
                100.0 * (double)st->sent / (double)bc_step_target(st), 100.0 * bc_step_cpu(st),
                bc_hist_quantile(&st->hist, 0.5) / 1e3, bc_hist_quantile(&st->hist, 0.99) / 1e3);
    rs->behind = bc_step_kept_up(st) ? 0 : rs->behind + 1;
    if (loss >= l->o->loss_pct && rs->failed < 0) {
        rs->failed = (int)k;
        rs->bound = bc_step_kept_up(st) && bc_step_cpu(st) < 0.95 ? "server" : "generator";
    } else if (rs->failed < 0) {
        if (rs->behind == 0) {
            rs->best = (int)k; /* a rate counts only if it was actually sent */
        } else if (rs->behind >= 2) {
            rs->bound = "generator";
        }
    }
}

/* Called each tick: judges finished steps, starts the next one. */
static bool bc_ramp_stop(struct bc_load *l)
{
    struct bc_ramp *rs = l->mode;
    uint64_t now = bc_now_ns(), grace = (uint64_t)l->o->grace_ms * 1000000u;

    for (unsigned k = 0; k < l->nsteps; k++) {
        if (!l->steps[k].evaluated && now >= l->steps[k].end_ns + grace) {
            bc_ramp_judge(l, k);
        }
    }
    if (rs->bound) {
        return true;
    }
    if (!l->sending) {
        unsigned rate = l->steps[l->nsteps - 1].rate;
        unsigned next = rate + (unsigned)((unsigned long long)rate * l->o->step_pct / 100u);

        if (next == rate) {
            next++;
        }
        if (next > l->o->max_rate || l->nsteps == BC_MAX_STEPS) {
            /* the last steps are judged during the final grace period */
            return true;
        }
        bc_load_step(l, next, l->o->step_secs, now);
    }
    return false;
}

static void bc_ramp_report_step(struct bc_report *r, const char *p, const struct bc_step *st)
{
    char k[48];

    snprintf(k, sizeof(k), "%s_rate", p);
    bc_report_add(r, k, "%u", st->rate);
    snprintf(k, sizeof(k), "%s_send_rate", p);
    bc_report_add(r, k, "%.0f", (double)st->sent / ((double)(st->end_ns - st->start_ns) / 1e9));
    snprintf(k, sizeof(k), "%s_loss_pct", p);
    bc_report_add(r, k, "%.4f", bc_step_loss(st));
    snprintf(k, sizeof(k), "%s_gen_cpu_pct", p);
    bc_report_add(r, k, "%.1f", 100.0 * bc_step_cpu(st));
    snprintf(k, sizeof(k), "%s_lat_p99_us", p);
    bc_report_add(r, k, "%.1f", bc_hist_quantile(&st->hist, 0.99) / 1e3);
}

static void bc_ramp_report(struct bc_load *l)
{
    struct bc_ramp *rs = l->mode;
    struct bc_report *r = bc_report_new("ramp", l->o);

    if (!rs->bound) {
        rs->bound = bc_stop_signal ? "interrupted" : "max-rate";
    }
    bc_report_add(r, "bound", "%s", rs->bound);
    bc_report_add(r, "steps", "%u", l->nsteps);
    if (rs->best >= 0) {
        bc_ramp_report_step(r, "best", &l->steps[rs->best]);
    } else {
        bc_report_add(r, "best_rate", "0");
    }
    if (rs->failed >= 0) {
        bc_ramp_report_step(r, "fail", &l->steps[rs->failed]);
    }
    bc_load_report_common(r, l);
    bc_report_print(r, l->o->json);
}

int bc_run_ramp(struct bc_ctx *ctx, const struct bc_opts *o)
{
    struct bc_load l;
    uint64_t grace = (uint64_t)o->grace_ms * 1000000u;
    unsigned last;
    struct bc_ramp rs = {.failed = -1, .best = -1};

    if (bc_load_begin(&l, ctx, o) != 0) {
        return 1;
    }
    l.mode = &rs;
    bc_load_step(&l, o->rate, o->step_secs, bc_now_ns());
    bc_load_run_until(&l, UINT64_MAX, bc_ramp_stop);
    last = l.nsteps - 1;
    if (l.sending) { /* stopped mid-step: that step is not judged */
        l.steps[last].end_ns = bc_now_ns();
        l.steps[last].cpu_end = bc_cpu_seconds();
        l.steps[last].evaluated = true;
        l.sending = false;
    }
    bc_load_run_until(&l, bc_now_ns() + grace, NULL);
    for (unsigned k = 0; k < l.nsteps && !rs.bound; k++) {
        if (!l.steps[k].evaluated) {
            bc_ramp_judge(&l, k);
        }
    }
    bc_load_teardown(&l);
    bc_ramp_report(&l);
    bc_load_free(&l);
    return 0;
}
