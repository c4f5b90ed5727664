/* br-testclient: command line. Runs one scenario against a TURN server over
 * UDP and prints one "result=pass|fail scenario=..." line; exit 0 when the
 * expected outcome happened, 1 when not, 2 on a usage error. */
#include "tc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: br-testclient SCENARIO --server ADDR:PORT [options]\n"
    "scenarios:\n"
    "  binding       Binding request; XOR-MAPPED-ADDRESS must equal our socket address\n"
    "  allocate      Allocate (401 challenge answered), then --twice / --peer; the\n"
    "                last response's code must equal --expect (0 = success)\n"
    "  refresh-zero  Allocate, Refresh LIFETIME 0, Refresh again (437), Allocate from a\n"
    "                new socket; --exhausted: one-port range, 508 before the refresh\n"
    "  relay         Allocate, CreatePermission, ChannelBind to our own peer sockets on\n"
    "                127.0.0.1; --count ChannelData and Send indications echoed back\n"
    "options:\n"
    "  --bind ADDR           local address to send from (e.g. 127.3.4.5)\n"
    "  --user NAME --password PASS   static long-term credentials\n"
    "  --secret S            TURN REST secret: username \"<expiry>:<--user or id>\"\n"
    "  --rest-ttl SECONDS    REST username lifetime (default 3600; negative = expired)\n"
    "  --sha256              PASSWORD-ALGORITHM SHA256 and MESSAGE-INTEGRITY-SHA256\n"
    "  --expect CODE         expected STUN error code (default 0, success)\n"
    "  --transport N         REQUESTED-TRANSPORT protocol (default 17); --no-transport\n"
    "  --tamper-nonce        change one character of the server's nonce\n"
    "  --twice               allocate: a second Allocate on the same socket\n"
    "  --peer ADDR:PORT      allocate: CreatePermission to this peer afterwards\n"
    "  --peer-self           allocate: CreatePermission to our own relayed address\n"
    "  --exhausted           refresh-zero: expect 508 before the refresh\n"
    "  --refresh-again CODE  refresh-zero: code for a Refresh after deletion; \"none\"\n"
    "                        (the default): no answer within 1.5 s\n"
    "  --settle-ms MS        refresh-zero: retry a 508 after the refresh this long (0)\n"
    "  --count N             relay: packets per method (default 20)\n"
    "  --timeout SECONDS     overall deadline (default 10)\n"
    "  -v                    trace exchanges on stderr\n";

static int tc_usage(const char *why)
{
    fprintf(stderr, "br-testclient: %s\n%s", why, usage);
    return 2;
}

static int tc_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < min || v > max) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* Applies one option that takes a value; returns 0 or -EINVAL. */
static int tc_opt_value(struct tc_opts *o, const char *k, const char *v)
{
    long n;

    if (!strcmp(k, "--server")) {
        return turn_addr_parse(&o->server, v, 3478);
    } else if (!strcmp(k, "--bind")) {
        return turn_addr_parse(&o->bind, v, 0);
    } else if (!strcmp(k, "--peer")) {
        return turn_addr_parse(&o->peer, v, 9);
    } else if (!strcmp(k, "--user")) {
        o->user = v;
        return 0;
    } else if (!strcmp(k, "--password")) {
        o->password = v;
        return 0;
    } else if (!strcmp(k, "--secret")) {
        o->secret = v;
        return 0;
    }
    if (!strcmp(k, "--rest-ttl")) {
        return tc_parse_long(v, -86400L * 365, 86400L * 365, &o->rest_ttl);
    }
    if (!strcmp(k, "--expect") && tc_parse_long(v, 0, 699, &n) == 0) {
        o->expect = (int)n;
    } else if (!strcmp(k, "--transport") && tc_parse_long(v, 0, 255, &n) == 0) {
        o->transport = (int)n;
    } else if (!strcmp(k, "--refresh-again") && !strcmp(v, "none")) {
        o->refresh_again = TC_NO_ANSWER;
    } else if (!strcmp(k, "--refresh-again") && tc_parse_long(v, 0, 699, &n) == 0) {
        o->refresh_again = (int)n;
    } else if (!strcmp(k, "--settle-ms") && tc_parse_long(v, 0, 10000, &n) == 0) {
        o->settle_ms = (unsigned)n;
    } else if (!strcmp(k, "--count") && tc_parse_long(v, 0, 100000, &n) == 0) {
        o->count = (unsigned)n;
    } else if (!strcmp(k, "--timeout") && tc_parse_long(v, 1, 600, &n) == 0) {
        o->timeout_ms = (unsigned)n * 1000u;
    } else {
        return -EINVAL;
    }
    return 0;
}

static bool tc_opt_flag(struct tc_opts *o, const char *k)
{
    bool *flag = !strcmp(k, "--sha256")         ? &o->sha256
                 : !strcmp(k, "--tamper-nonce") ? &o->tamper_nonce
                 : !strcmp(k, "--twice")        ? &o->twice
                 : !strcmp(k, "--peer-self")    ? &o->peer_self
                 : !strcmp(k, "--exhausted")    ? &o->exhausted
                 : !strcmp(k, "-v")             ? &o->verbose
                                                : NULL;

    if (!strcmp(k, "--no-transport")) {
        o->transport = -1;
        return true;
    }
    if (flag) {
        *flag = true;
    }
    return flag != NULL;
}

/* Static credentials, or TURN REST ones minted from --secret with the id
 * --user (default "br-testclient"). */
static int tc_credentials(struct tc_opts *o)
{
    if (o->secret) {
        return tcl_cred_rest(&o->cred, o->secret, o->user ? o->user : "br-testclient",
                             (long long)time(NULL) + o->rest_ttl, o->sha256);
    }
    return tcl_cred_static(&o->cred, o->user ? o->user : "", o->password ? o->password : "",
                           o->sha256);
}

int main(int argc, char **argv)
{
    struct tc_opts o = {.transport = 17,
                        .rest_ttl = 3600,
                        .refresh_again = TC_NO_ANSWER,
                        .count = 20,
                        .timeout_ms = 10000};

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    o.scenario = argv[1];
    for (int i = 2; i < argc; i++) {
        if (tc_opt_flag(&o, argv[i])) {
            continue;
        }
        if (i + 1 >= argc || tc_opt_value(&o, argv[i], argv[i + 1]) != 0) {
            fprintf(stderr, "br-testclient: bad option or value: %s\n", argv[i]);
            return 2;
        }
        i++;
    }
    if (o.server.sa.sa_family == 0) {
        return tc_usage("--server is required");
    }
    if (tc_credentials(&o) != 0) {
        return tc_usage("--user or --password too long");
    }
    if (!strcmp(o.scenario, "binding")) {
        return tc_run_binding(&o);
    } else if (!strcmp(o.scenario, "allocate")) {
        return tc_run_allocate(&o);
    } else if (!strcmp(o.scenario, "refresh-zero")) {
        return tc_run_refresh_zero(&o);
    } else if (!strcmp(o.scenario, "relay")) {
        return tc_run_relay(&o);
    }
    return tc_usage("unknown scenario");
}
