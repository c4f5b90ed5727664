/* blindrelay-bench: flood mode. The call pairs of steady mode are set up
 * (from 127.0.0.1, before the flood), then for --duration they relay SRTP
 * at --rate while the flooder thread (bench_flooder.c) floods the same
 * server port from random 127.0.0.0/8 sources. The lines "flood_start" and
 * "flood_end" on stdout mark the flood's window (a script reads the
 * server's memory there); the summary holds the calls' loss, as in steady
 * mode, and the answers the flood drew. */
#include "bench_load.h"

#include <stdio.h>
#include <string.h>

static void bc_flood_mark(const char *what)
{
    printf("%s\n", what);
    fflush(stdout);
}

int bc_run_flood(struct bc_ctx *ctx, const struct bc_opts *o)
{
    struct bc_load l;
    struct bc_flooder *f = NULL;
    struct bc_report *r;
    struct bc_step *st;
    double secs;
    int err;

    if (bc_load_begin(&l, ctx, o) != 0) {
        return 1;
    }
    err = bc_flooder_start(&f, o);
    if (err) {
        fprintf(stderr, "blindrelay-bench: flood: cannot open %u flood sockets: %s\n",
                o->flood_ports, strerror(-err));
        bc_load_free(&l);
        return 1;
    }
    bc_flood_mark("flood_start");
    bc_load_step(&l, o->rate, o->duration, bc_now_ns());
    st = &l.steps[0];
    bc_load_run_until(&l, st->end_ns, NULL);
    bc_flooder_stop(f);
    bc_flood_mark("flood_end");
    bc_load_run_until(&l, st->end_ns + (uint64_t)o->grace_ms * 1000000u, NULL);
    bc_flooder_join(f);
    if (l.sending) { /* interrupted */
        st->end_ns = bc_now_ns();
        st->cpu_end = bc_cpu_seconds();
    }
    secs = (double)(st->end_ns - st->start_ns) / 1e9;
    bc_load_teardown(&l);
    r = bc_report_new("flood", o);
    bc_report_add(r, "duration_s", "%.2f", secs);
    bc_report_add(r, "send_rate", "%.0f", (double)st->sent / secs);
    bc_report_add(r, "skipped", "%llu", (unsigned long long)st->skipped);
    bc_report_add(r, "gen_cpu_pct", "%.1f", 100.0 * (st->cpu_end - st->cpu_start) / secs);
    bc_load_report_common(r, &l);
    bc_flooder_report(f, r);
    bc_report_print(r, o->json);
    bc_flooder_free(f);
    bc_load_free(&l);
    return 0;
}
