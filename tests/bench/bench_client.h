/* blindrelay-bench: one TURN client (one socket, one 5-tuple, one
 * allocation), its control transactions with long-term credentials
 * (RFC 8489 9.2, RFC 8656) and the event loop that drives many of them. */
#ifndef BENCH_CLIENT_H
#define BENCH_CLIENT_H

#include "bench.h"

#include <sys/uio.h>

#include "tests/lib/turnclient.h"

enum bc_op {
    BC_OP_NONE,
    BC_OP_ALLOCATE,
    BC_OP_PERMISSION,
    BC_OP_BIND,
    BC_OP_REFRESH,  /* Refresh with the granted lifetime */
    BC_OP_RELEASE,  /* Refresh with LIFETIME 0 */
    BC_OP_REGISTER, /* raw forwarder: hello until echoed */
};

struct bc_ctx;

/* TCP state of a client: reassembly buffer and output queue. */
struct bc_tcp {
    size_t rlen;
    size_t qoff, qlen; /* output queue: bytes [qoff, qlen) pending */
    bool want_out;
    uint8_t rbuf[BC_STREAM_RX];
    uint8_t q[BC_STREAM_TX];
};

struct bc_client {
    struct bc_ctx *ctx;
    int fd;
    unsigned id;
    enum bc_op op;      /* in flight, or NONE */
    enum bc_op op_done; /* the last op that ended (valid in op_done_cb) */
    int result;         /* last op: 0, a STUN error code, or -errno */
    bool allocated;
    uint8_t tries;
    uint8_t stale;
    uint32_t lifetime; /* granted */
    uint8_t tid[12];
    uint64_t op_start;
    uint64_t retx_at;
    uint64_t refresh_at; /* next allocation Refresh */
    uint64_t rebind_at;  /* next ChannelBind refresh (keeps the permission too) */
    union turn_addr relayed;
    union turn_addr peer; /* the partner's relayed address (raw: unused) */
    uint16_t peer_id;     /* raw forwarder: the partner's id */
    struct bc_tcp *tcp;   /* TCP only */
    struct bc_flow *flow; /* load modes only */
    struct tcl_nonce nonce;
};

/* Callbacks of the mode running the loop. */
struct bc_handlers {
    /* A control transaction ended (c->result says how). */
    void (*op_done_cb)(struct bc_client *c, void *arg);
    /* Relayed data for c: payload of a ChannelData (or raw) frame; the
     * bytes may be modified in place. rx_ns: when it arrived (bc_wall_ns
     * clock; over UDP the kernel's receive timestamp). */
    void (*data_cb)(struct bc_client *c, uint8_t *payload, size_t len, uint64_t rx_ns, void *arg);
    void *arg;
};

/* Counters of the control plane. */
struct bc_ctl_stats {
    uint64_t requests;
    uint64_t retransmits;
    uint64_t timeouts;
    uint64_t errors; /* STUN error responses after the credential dance */
    uint64_t stray;  /* unmatched or undecodable STUN */
    uint64_t garbage;
    uint64_t tcp_closed;
    uint64_t by_code[700]; /* final STUN error responses by code */
};

struct bc_ctx {
    const struct bc_opts *o;
    int epfd;
    struct tcl_cred cred; /* one user for every client */
    struct bc_handlers h;
    struct bc_ctl_stats st;
    uint64_t send_drops; /* data packets the socket would not take */
    int tfd;             /* periodic timerfd, or -1 */
    bool rotate_src;     /* churn, TCP: a new loopback source address per socket */
    uint32_t src_seq;
    uint32_t port_seq; /* --one-address: the next source port to try */
    bool ticked;       /* the timerfd fired since the flag was cleared */
    uint8_t (*rxbuf)[BC_PKT_BUF];
};

/* bench_ctx.c */
int bc_ctx_init(struct bc_ctx *ctx, const struct bc_opts *o);
void bc_ctx_free(struct bc_ctx *ctx);
/* Opens c's socket (UDP connected, or TCP connected), registers it with
 * epoll. big: large socket buffers for load. Returns 0 or -errno. */
int bc_client_open(struct bc_ctx *ctx, struct bc_client *c, unsigned id, bool big);
/* Closes the socket (RST for TCP: no TIME_WAIT pile-up in churn). */
void bc_client_close(struct bc_client *c);
/* Sends one whole message or frame: UDP send, or TCP through the output
 * queue. Returns 0, or -ENOBUFS/-errno when dropped whole. */
int bc_client_send(struct bc_client *c, const uint8_t *buf, size_t len);
/* UDP: sends n datagrams with sendmmsg; returns how many went out. */
unsigned bc_client_sendmmsg(struct bc_client *c, struct iovec *iov, unsigned n);
/* Waits up to timeout_ms for events and dispatches them. Returns the
 * number handled or -errno. */
int bc_ctx_poll(struct bc_ctx *ctx, int timeout_ms, uint64_t *now);
/* Starts a periodic timerfd (period_ns) whose expiry sets ctx->ticked. */
int bc_ctx_ticker(struct bc_ctx *ctx, uint64_t period_ns);
/* Writes queued TCP output; called when the socket is writable. */
void bc_tcp_flush(struct bc_client *c);
/* Raises RLIMIT_NOFILE to at least n (as far as allowed). */
void bc_raise_nofile(unsigned n);

/* bench_turn.c */
/* Starts a transaction on c (BC_OP_*). Returns 0 or -errno (op not started). */
int bc_op_start(struct bc_client *c, enum bc_op op, uint64_t now);
/* Feeds one STUN message received on c. */
void bc_op_input(struct bc_client *c, const uint8_t *buf, size_t len, uint64_t now);
/* Retransmits (UDP) or times out the op in flight. */
void bc_op_tick(struct bc_client *c, uint64_t now);

/* bench_drive.c */
/* Runs op on every client (window at once) until all finished or the
 * deadline. Returns the number that failed. */
unsigned bc_drive_all(struct bc_ctx *ctx, struct bc_client *cl, unsigned n, enum bc_op op,
                      unsigned timeout_ms);
/* Sends due allocation and channel refreshes; call now and then. */
void bc_drive_refresh(struct bc_client *cl, unsigned n, uint64_t now);
/* Ticks retransmissions of every client with an op in flight. */
void bc_drive_tick(struct bc_client *cl, unsigned n, uint64_t now);

#endif
