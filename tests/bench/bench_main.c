/* blindrelay-bench: main. Parses options, sets up credentials (static or
 * TURN REST), installs SIGINT/SIGTERM handlers and runs the mode. */
#include "bench_load.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

volatile int bc_stop_signal;

static void bc_on_signal(int sig)
{
    bc_stop_signal = sig;
}

static void bc_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bc_on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Static user, or a REST username "<expiry>:bench" and its password. */
static int bc_credentials(struct bc_ctx *ctx, const struct bc_opts *o)
{
    if (o->secret) {
        return tcl_cred_rest(&ctx->cred, o->secret, "bench",
                             (long long)time(NULL) + (long long)o->rest_ttl, false);
    }
    return tcl_cred_static(&ctx->cred, o->user ? o->user : "", o->password ? o->password : "",
                           false);
}

int main(int argc, char **argv)
{
    struct bc_opts o;
    struct bc_ctx ctx;
    int rc;

    if (bc_opts_parse(&o, argc, argv) != 0) {
        return 2;
    }
    if (bc_srtp_init() != 0 || bc_ctx_init(&ctx, &o) != 0) {
        fprintf(stderr, "blindrelay-bench: cannot initialise libsrtp2 or epoll\n");
        return 1;
    }
    if (bc_credentials(&ctx, &o) != 0) {
        fprintf(stderr, "blindrelay-bench: --user or --password too long\n");
        bc_ctx_free(&ctx);
        return 2;
    }
    bc_signals();
    switch (o.mode) {
    case BC_STEADY:
        rc = bc_run_steady(&ctx, &o);
        break;
    case BC_RAMP:
        rc = bc_run_ramp(&ctx, &o);
        break;
    case BC_CHURN:
        rc = bc_run_churn(&ctx, &o);
        break;
    case BC_FLOOD:
        rc = bc_run_flood(&ctx, &o);
        break;
    default:
        rc = bc_run_idle(&ctx, &o);
        break;
    }
    bc_ctx_free(&ctx);
    return rc;
}
