/* blindrelay-bench: a TURN load generator (RFC 8656 relay-to-relay pairs
 * carrying SRTP, RFC 3711 via libsrtp2) for loopback benchmarks. Shared
 * types; each .c file says what it owns. Single-threaded. */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "turn/addr.h"

#define BC_MAX_PAIRS 5000
#define BC_MAX_RATE 10000000u
#define BC_MAX_DURATION 3600u
#define BC_MAX_ALLOCS 100000u
#define BC_MIN_SIZE 40 /* 12 RTP + 16 inner + 10 tag, rounded up */
#define BC_MAX_SIZE 1400
#define BC_MAX_STEPS 64
#define BC_BATCH 64         /* datagrams per recvmmsg/sendmmsg */
#define BC_PKT_BUF 1536     /* one datagram buffer */
#define BC_STREAM_RX 65536  /* TCP reassembly buffer per client */
#define BC_STREAM_TX 262144 /* TCP output queue per client */
#define BC_CHANNEL 0x4000   /* every client binds one channel: its partner */

enum bc_mode { BC_STEADY, BC_RAMP, BC_CHURN, BC_IDLE, BC_FLOOD };

#define BC_MAX_FLOOD 100000000u /* flood packets per run, at most */
#define BC_MAX_FLOOD_PORTS 1024

/* Command line, parsed once by bench_opts.c and then read-only. */
struct bc_opts {
    enum bc_mode mode;
    union turn_addr server;
    bool raw; /* --raw-forwarder: the server is udp-forwarder, not TURN */
    bool tcp;
    const char *user;
    const char *password;
    const char *secret;
    unsigned rest_ttl;
    unsigned pairs;
    unsigned rate;   /* packets/s in all (steady, ramp start); cycles/s (churn, 0 = closed loop) */
    unsigned size;   /* SRTP packet bytes on the wire (without ChannelData) */
    unsigned burst;  /* packets a sender sends back to back */
    double duration; /* seconds; idle: 0 = until a signal */
    unsigned grace_ms; /* how long after the end a packet may still arrive */
    unsigned step_pct;
    double step_secs;
    unsigned max_rate;
    double loss_pct; /* ramp stops when a step loses this much or more */
    unsigned allocs; /* idle */
    unsigned window; /* control transactions in flight at once */
    unsigned lifetime;
    bool one_address;     /* every socket on 127.0.0.2, ports rotating: a busy NAT */
    bool allocate_only;   /* churn: Allocate + Refresh(0), no permission or channel */
    unsigned flood_rate;  /* flood packets/s, 0 = as fast as the core allows */
    unsigned flood_ports; /* flood sockets (ports), each sending from random sources */
    unsigned flood_max;   /* flood packets in all, at most */
    bool json;
    bool quiet;
};

int bc_opts_parse(struct bc_opts *o, int argc, char **argv);
/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool bc_addr_is_loopback(const union turn_addr *a);

/* --- bench_pace.c: pacing arithmetic (pure) --- */

/* Packets due after elapsed_ns at rate packets/s (floor). */
uint64_t bc_pace_due(uint64_t rate, uint64_t elapsed_ns);
/* How many of the global slots [from, to) belong to sender s of n, slot k
 * going to sender k % n. */
uint64_t bc_pace_share(uint64_t from, uint64_t to, unsigned n, unsigned s);
/* Largest burst one tick may send: 10 ms worth, at least one per sender. */
uint64_t bc_pace_burst(uint64_t rate, unsigned n);

/* --- bench_stats.c: latency histogram and sequence accounting (pure) --- */

#define BC_HIST_SUB 64
#define BC_HIST_BUCKETS (2 * BC_HIST_SUB + 42 * BC_HIST_SUB)

/* Log-linear histogram of nanosecond values: exact below 128, then 64
 * buckets per power of two (relative error under 1.6%). */
struct bc_hist {
    uint64_t count;
    uint64_t max;
    uint64_t sum;
    uint64_t b[BC_HIST_BUCKETS];
};

void bc_hist_add(struct bc_hist *h, uint64_t v);
void bc_hist_merge(struct bc_hist *dst, const struct bc_hist *src);
/* Value at quantile q (0..1): the middle of the bucket holding the
 * ceil(q * count)-th smallest value; 0 when empty. */
uint64_t bc_hist_quantile(const struct bc_hist *h, double q);
unsigned bc_hist_index(uint64_t v);

#define BC_SEQ_WINDOW 8192

/* Receive-side accounting of one stream (one sender, increasing seq from 0). */
struct bc_seq {
    bool any;
    uint32_t highest;
    uint64_t unique;
    uint64_t dup;
    uint64_t reordered; /* arrived after a higher seq */
    uint64_t late;      /* older than the window: counted once, maybe a dup */
    uint64_t bits[BC_SEQ_WINDOW / 64];
};

/* Records seq; returns false for a duplicate (not counted as unique). */
bool bc_seq_add(struct bc_seq *s, uint32_t seq);

/* --- bench_srtp.c --- */

struct bc_flow;
/* Makes the two SRTP directions of a pair with fresh random keys: a's
 * sender and b's receiver share one key, b's sender and a's receiver the
 * other. Returns 0 or -EIO. */
int bc_flow_pair(struct bc_flow **a, struct bc_flow **b);
void bc_flow_free(struct bc_flow *f);
/* Builds and protects packet number seq (step, sent_ns inside) of size
 * bytes into out (room for size bytes). Returns 0 or -EIO. */
int bc_flow_protect(struct bc_flow *f, uint8_t *out, unsigned size, uint8_t step, uint64_t sent_ns);
/* What one received packet was. */
enum bc_rx_verdict { BC_RX_OK, BC_RX_AUTH_FAIL, BC_RX_REPLAY, BC_RX_BAD };
struct bc_rx_info {
    uint32_t seq;
    uint8_t step;
    uint64_t sent_ns;
};
enum bc_rx_verdict bc_flow_unprotect(struct bc_flow *f, uint8_t *pkt, size_t len,
                                     struct bc_rx_info *info);
uint32_t bc_flow_tx_count(const struct bc_flow *f);
struct bc_seq *bc_flow_seq(struct bc_flow *f);
int bc_srtp_init(void);

/* --- time --- */
uint64_t bc_now_ns(void);
/* CLOCK_REALTIME, the clock of the kernel's receive timestamps
 * (SO_TIMESTAMPNS): one-way latency is kernel receive time minus this,
 * read just before the packet is built. */
uint64_t bc_wall_ns(void);
double bc_cpu_seconds(void);

#endif
