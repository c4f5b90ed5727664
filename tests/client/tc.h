/* br-testclient: a small TURN-over-UDP client that runs one scenario against
 * a server on loopback and reports whether the expected outcome happened.
 * RFC 8489 (STUN, long-term credentials), RFC 8656 (TURN). Test tool only. */
#ifndef TC_H
#define TC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/lib/turnclient.h"

#define TC_BUF 2048

/* Options from the command line; value struct, filled by main. */
/* refresh_again: the Refresh gets no answer (blindrelay drops requests other
 * than Allocate from a tuple without an allocation). */
#define TC_NO_ANSWER (-1)

struct tc_opts {
    const char *scenario;
    union turn_addr server;
    union turn_addr bind; /* family 0: any loopback-routable source */
    const char *user;     /* static user, or the REST username's id */
    const char *password;
    const char *secret;   /* TURN REST shared secret, or NULL */
    long rest_ttl;        /* seconds until the REST username expires */
    bool sha256;          /* PASSWORD-ALGORITHM SHA256 + MI-SHA256 */
    struct tcl_cred cred; /* made by main from the five above */
    int expect;           /* 0 success, else the STUN error code expected */
    int transport;        /* REQUESTED-TRANSPORT protocol, -1 to omit */
    bool tamper_nonce;    /* flip one character of the server's nonce */
    bool twice;           /* allocate: a second Allocate on the same 5-tuple */
    bool peer_self;       /* allocate: CreatePermission to our own relayed address */
    bool exhausted;       /* refresh-zero: expect 508 before the refresh */
    int refresh_again;    /* refresh-zero: code for a Refresh after deletion, or TC_NO_ANSWER */
    unsigned settle_ms;   /* refresh-zero: how long a 508 may persist after it */
    union turn_addr peer; /* allocate: CreatePermission to it afterwards */
    unsigned count;       /* relay: packets per method */
    unsigned timeout_ms;  /* overall deadline */
    bool verbose;
};

/* One UDP socket talking to the server, with the run's deadline. */
struct tc_sock {
    int fd;
    union turn_addr server;
    union turn_addr local;
    uint64_t deadline_ms; /* CLOCK_MONOTONIC milliseconds */
};

/* Long-term credential state of one client (one 5-tuple). */
struct tc_auth {
    const struct tc_opts *opts;
    struct tcl_cred cred;   /* a copy of opts->cred */
    struct tcl_nonce nonce; /* len 0 until challenged */
};

/* Outcome of a request after the authentication dance. */
struct tc_resp {
    int code; /* 0 success, else the STUN error code */
    uint8_t buf[TC_BUF];
    struct stun_msg msg; /* borrows buf */
};

/* tc_net.c */
uint64_t tc_now_ms(void);
void tc_log(const struct tc_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens a UDP socket, binds it to bind (if set) and connects it to server,
 * so that getsockname gives the address the server sees. Returns 0 or -errno. */
int tc_sock_open(struct tc_sock *s, const union turn_addr *server, const union turn_addr *local,
                 uint64_t deadline_ms);
void tc_sock_close(struct tc_sock *s);
/* Waits for one datagram until min(now + wait_ms, deadline). Returns its
 * length, 0 on timeout, or -errno. */
int tc_recv(int fd, uint8_t *buf, size_t cap, union turn_addr *from, unsigned wait_ms,
            uint64_t deadline_ms);
/* Sends a request and waits for the response with the same transaction ID,
 * retransmitting (RTO 250 ms doubling, at most 6 sends, RFC 8489 6.2.1
 * bounded further by the deadline). Other datagrams are dropped. Decodes
 * the response into resp->msg and resp->code. Returns 0, -ETIMEDOUT, or
 * -EBADMSG for an error response without a valid ERROR-CODE. */
int tc_transact(struct tc_sock *s, const uint8_t *req, size_t len, struct tc_resp *resp);
const char *tc_addr_str(const union turn_addr *a, char *buf, size_t size);

/* tc_session.c */
void tc_auth_init(struct tc_auth *a, const struct tc_opts *o);
/* Sends req, answering a 401 challenge (and one stale-nonce 438) with
 * long-term credentials; checks MESSAGE-INTEGRITY on authenticated
 * responses. Returns 0 with resp->code set, or -errno when the exchange
 * itself failed (timeout, malformed response, integrity mismatch). */
int tc_request(struct tc_sock *s, struct tc_auth *a, const struct tcl_req *req,
               struct tc_resp *resp);
/* Allocate (UDP) with opts' credentials; fills relayed on success. */
int tc_allocate(struct tc_sock *s, struct tc_auth *a, struct tc_resp *resp,
                union turn_addr *relayed);

/* tc_scenarios.c: each returns 0 when the expected outcome happened, 1 when
 * not, and prints the result line. */
int tc_run_binding(const struct tc_opts *o);
int tc_run_allocate(const struct tc_opts *o);
int tc_run_refresh_zero(const struct tc_opts *o);
int tc_run_relay(const struct tc_opts *o);

/* Prints "result=pass|fail scenario=NAME key=value..." on stdout. */
void tc_result(const struct tc_opts *o, bool pass, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
