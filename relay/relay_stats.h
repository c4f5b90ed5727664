/* Counters of relay/ itself (sockets and connections), per worker. */
#ifndef RELAY_RELAY_STATS_H
#define RELAY_RELAY_STATS_H

#include <stdint.h>

/* Written by the owning worker only; readers use relaxed atomic loads. */
struct relay_stats {
    uint64_t connections_accepted[2]; /* [0] TCP, [1] TLS */
    uint64_t connections_active;
    uint64_t connections_refused; /* over max-connections(-per-ip) */
    uint64_t handshake_failures;  /* TLS handshake failed or timed out */
    uint64_t idle_closed;         /* closed by idle-timeout */
    uint64_t stream_garbage;      /* closed for a frame that is neither STUN nor ChannelData */
    uint64_t relayed_in_worker;   /* relay-to-relay packets that skipped the kernel */
    uint64_t stream_oversize;     /* closed for a frame over max-unauth-frame before allocating */
    uint64_t accept_paused;       /* listener rested: accept() failed (EMFILE, ENFILE, ENOMEM) */
} __attribute__((aligned(64)));

#endif
