/* br-testclient scenarios: binding, allocate (with an expected outcome),
 * refresh-zero (RFC 8656 8.2: LIFETIME 0 deletes the allocation and frees
 * its relay port), relay (ChannelData and Send/Data through a permission). */
#include "tc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void tc_result(const struct tc_opts *o, bool pass, const char *fmt, ...)
{
    va_list ap;

    printf("result=%s scenario=%s ", pass ? "pass" : "fail", o->scenario);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static const char *tc_strerr(int r)
{
    return r == -ETIMEDOUT ? "timeout" : strerror(-r);
}

int tc_run_binding(const struct tc_opts *o)
{
    struct tc_sock s;
    struct tc_resp resp;
    union turn_addr mapped;
    uint8_t req[64], tid[STUN_TID_LEN];
    struct tcl_req binding = {.tid = tid, .method = STUN_BINDING, .transport = -1};
    char l[64], m[64];
    int r, len;
    bool ok;

    r = tc_sock_open(&s, &o->server, &o->bind, tc_now_ms() + o->timeout_ms);
    if (r != 0) {
        tc_result(o, false, "error=socket:%s", strerror(-r));
        return 1;
    }
    tcl_random(tid, sizeof(tid));
    len = tcl_req_build(&binding, NULL, NULL, req, sizeof(req));
    r = len < 0 ? len : tc_transact(&s, req, (size_t)len, &resp);
    tc_sock_close(&s);
    if (r != 0) {
        tc_result(o, false, "error=%s", tc_strerr(r));
        return 1;
    }
    if (resp.msg.cls != STUN_SUCCESS ||
        stun_msg_get_xaddr(&resp.msg, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped) != 0) {
        tc_result(o, false, "error=no-xor-mapped-address class=%u", resp.msg.cls);
        return 1;
    }
    ok = turn_addr_equal(&mapped, &s.local);
    tc_result(o, ok, "local=%s mapped=%s", tc_addr_str(&s.local, l, sizeof(l)),
              tc_addr_str(&mapped, m, sizeof(m)));
    return ok ? 0 : 1;
}

/* Deletes the allocation (Refresh LIFETIME 0); returns the response code or -errno. */
static int tc_release(struct tc_sock *s, struct tc_auth *a)
{
    struct tcl_req req = {.method = TURN_REFRESH, .transport = -1, .has_lifetime = true};
    struct tc_resp resp;
    int r = tc_request(s, a, &req, &resp);

    return r != 0 ? r : resp.code;
}

int tc_run_allocate(const struct tc_opts *o)
{
    struct tc_sock s;
    struct tc_auth a;
    struct tc_resp resp;
    union turn_addr relayed = {0}, alternate = {0};
    const char *step = "allocate";
    char rb[64], ab[64];
    int r;

    r = tc_sock_open(&s, &o->server, &o->bind, tc_now_ms() + o->timeout_ms);
    if (r != 0) {
        tc_result(o, false, "error=socket:%s", strerror(-r));
        return 1;
    }
    tc_auth_init(&a, o);
    r = tc_allocate(&s, &a, &resp, &relayed);
    if (r == 0 && resp.code == 0 && o->twice) {
        struct tcl_req again = {.method = TURN_ALLOCATE, .transport = o->transport};

        step = "allocate-again";
        r = tc_request(&s, &a, &again, &resp);
    }
    if (r == 0 && resp.code == 0 && (o->peer.sa.sa_family != 0 || o->peer_self)) {
        struct tcl_req perm = {.method = TURN_CREATE_PERMISSION,
                               .transport = -1,
                               .peer = o->peer_self ? &relayed : &o->peer};

        step = "create-permission";
        r = tc_request(&s, &a, &perm, &resp);
    }
    if (r != 0) {
        tc_result(o, false, "step=%s error=%s expect=%d", step, tc_strerr(r), o->expect);
        tc_sock_close(&s);
        return 1;
    }
    if (resp.code == 300) {
        stun_msg_get_addr(&resp.msg, STUN_ATTR_ALTERNATE_SERVER, &alternate);
    }
    if (relayed.sa.sa_family != 0) {
        tc_release(&s, &a);
    }
    tc_sock_close(&s);
    tc_result(o, resp.code == o->expect, "step=%s code=%d expect=%d relayed=%s alternate=%s", step,
              resp.code, o->expect, tc_addr_str(&relayed, rb, sizeof(rb)),
              tc_addr_str(&alternate, ab, sizeof(ab)));
    return resp.code == o->expect ? 0 : 1;
}

/* Allocates on a fresh socket; returns the response code or -errno. */
static int tc_fresh_allocate(const struct tc_opts *o, struct tc_sock *s, struct tc_auth *a,
                             union turn_addr *relayed, uint64_t deadline)
{
    struct tc_resp resp;
    int r = tc_sock_open(s, &o->server, &o->bind, deadline);

    if (r != 0) {
        return r;
    }
    tc_auth_init(a, o);
    r = tc_allocate(s, a, &resp, relayed);
    return r != 0 ? r : resp.code;
}

int tc_run_refresh_zero(const struct tc_opts *o)
{
    uint64_t deadline = tc_now_ms() + o->timeout_ms, settle;
    struct tc_sock s1 = {.fd = -1}, s2 = {.fd = -1}, s3 = {.fd = -1};
    struct tc_auth a1, a2, a3;
    union turn_addr r1 = {0}, r2 = {0}, r3 = {0};
    char b1[64], b3[64];
    const char *step;
    int c, c2 = 0, c3 = 0, again = 0;
    bool ok = false;

    step = "first-allocate";
    c = tc_fresh_allocate(o, &s1, &a1, &r1, deadline);
    if (c != 0) {
        goto out;
    }
    if (o->exhausted) {
        step = "allocate-while-exhausted";
        c2 = tc_fresh_allocate(o, &s2, &a2, &r2, deadline);
        if (c2 != 508) {
            goto out;
        }
    }
    step = "refresh-zero";
    c = tc_release(&s1, &a1);
    if (c != 0) {
        goto out;
    }
    /* A Refresh for an allocation that is gone: blindrelay drops it before
     * authentication (no answer); RFC 8656 5 servers answer 437; coturn
     * answers 0 because it keeps the session (--refresh-again 0). */
    step = "refresh-after-delete";
    if (o->refresh_again == TC_NO_ANSWER) {
        uint64_t saved = s1.deadline_ms;
        s1.deadline_ms = tc_now_ms() + 1500;
        again = tc_release(&s1, &a1);
        s1.deadline_ms = saved;
        if (again == -ETIMEDOUT) {
            again = TC_NO_ANSWER;
        }
    } else {
        again = tc_release(&s1, &a1);
    }
    if (again != o->refresh_again) {
        goto out;
    }
    step = "allocate-after-refresh";
    settle = tc_now_ms() + o->settle_ms;
    for (;;) {
        c3 = tc_fresh_allocate(o, &s3, &a3, &r3, deadline);
        if (c3 != 508 || tc_now_ms() >= settle) {
            break;
        }
        tc_sock_close(&s3);
        usleep(100 * 1000);
    }
    if (c3 != 0) {
        goto out;
    }
    step = "done";
    ok = !o->exhausted || turn_addr_port(&r3) == turn_addr_port(&r1);
    tc_release(&s3, &a3);
out:
    tc_result(
        o, ok, "step=%s code=%d exhausted_code=%d refresh_again=%d after_code=%d first=%s after=%s",
        step, c, c2, again, c3, tc_addr_str(&r1, b1, sizeof(b1)), tc_addr_str(&r3, b3, sizeof(b3)));
    tc_sock_close(&s1);
    tc_sock_close(&s2);
    tc_sock_close(&s3);
    return ok ? 0 : 1;
}
