/* blindrelay-bench: the media load of steady and ramp modes: pairs set up,
 * SRTP sent at a paced rate in steps, every packet checked on receipt. */
#ifndef BENCH_LOAD_H
#define BENCH_LOAD_H

#include "bench_client.h"

struct bc_report;

/* One step at one target rate (steady runs a single step). */
struct bc_step {
    unsigned rate;
    uint64_t start_ns, end_ns; /* send window */
    uint64_t slots;            /* slots consumed (sent, dropped or skipped) */
    uint64_t sent;             /* handed to the kernel */
    uint64_t skipped;          /* due, but the generator was too far behind */
    uint64_t drops;            /* the socket refused them */
    uint64_t recv;             /* unique, authenticated, tagged with this step */
    double cpu_start, cpu_end; /* generator CPU seconds (getrusage) */
    bool evaluated;
    struct bc_hist hist;
};

struct bc_load {
    struct bc_ctx *ctx;
    const struct bc_opts *o;
    struct bc_client *cl;
    unsigned n; /* 2 * pairs */
    struct bc_step *steps;
    unsigned nsteps; /* started */
    bool sending;
    uint64_t auth_fail, replay, bad, dup, reordered;
    uint64_t setup_ns;
    unsigned setup_failed, release_failed;
    void *mode; /* the running mode's state */
    uint8_t (*txbuf)[BC_PKT_BUF];
    struct iovec iov[BC_BATCH];
    /* progress */
    uint64_t prog_at, prog_sent, prog_recv;
    double prog_cpu;
};

/* bench_load.c */
int bc_load_setup(struct bc_load *l, struct bc_ctx *ctx, const struct bc_opts *o);
/* Releases the allocations (Refresh 0) and closes the sockets; the steps
 * stay for the report. */
void bc_load_teardown(struct bc_load *l);
/* Tears down if needed and frees the steps. */
void bc_load_free(struct bc_load *l);
/* Sends the slots due in the current step. */
void bc_load_tick(struct bc_load *l, uint64_t now);
/* Starts step number nsteps at rate. */
void bc_load_step(struct bc_load *l, unsigned rate, double secs, uint64_t now);
/* Runs the loop (receive, tick, refresh) until `until`. */
void bc_load_run_until(struct bc_load *l, uint64_t until, bool (*stop)(struct bc_load *l));
uint64_t bc_load_totals(const struct bc_load *l, uint64_t *recv, struct bc_hist *h);

/* bench_steady.c */
/* Sets up the pairs and the 1 ms ticker; on failure reports and frees. */
int bc_load_begin(struct bc_load *l, struct bc_ctx *ctx, const struct bc_opts *o);
void bc_load_report_common(struct bc_report *r, struct bc_load *l);
int bc_run_steady(struct bc_ctx *ctx, const struct bc_opts *o);

/* bench_ramp.c */
int bc_run_ramp(struct bc_ctx *ctx, const struct bc_opts *o);

/* bench_churn.c, bench_idle.c */
int bc_run_churn(struct bc_ctx *ctx, const struct bc_opts *o);
int bc_run_idle(struct bc_ctx *ctx, const struct bc_opts *o);

/* bench_flooder.c: the flood thread (see there). */
struct bc_flooder;
/* Opens --flood-ports sockets and starts sending. Returns 0 or -errno;
 * *out: new, free with bc_flooder_free. */
int bc_flooder_start(struct bc_flooder **out, const struct bc_opts *o);
/* Stops sending; answers are still counted until the join. */
void bc_flooder_stop(struct bc_flooder *f);
void bc_flooder_join(struct bc_flooder *f);
/* The flood's counters (after the join). */
void bc_flooder_report(const struct bc_flooder *f, struct bc_report *r);
/* Joins if needed, closes the sockets; accepts NULL. */
void bc_flooder_free(struct bc_flooder *f);

/* bench_flood.c */
int bc_run_flood(struct bc_ctx *ctx, const struct bc_opts *o);

/* bench_report.c: a summary as key=value pairs or a JSON object. */
struct bc_report;
struct bc_report *bc_report_new(const char *mode, const struct bc_opts *o);
void bc_report_add(struct bc_report *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void bc_report_hist(struct bc_report *r, const char *prefix, const struct bc_hist *h);
void bc_report_ctl(struct bc_report *r, const struct bc_ctx *ctx);
/* Prints on stdout and frees. */
void bc_report_print(struct bc_report *r, bool json);
/* A progress line on stderr (unless quiet). */
void bc_progress(const struct bc_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Set by SIGINT/SIGTERM (bench_main.c). */
extern volatile int bc_stop_signal;

#endif
