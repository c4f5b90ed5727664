/* Outgoing UDP datagrams of one worker, gathered while a receive batch is
 * processed and sent when it ends, with one sendmmsg per socket run.
 * Consecutive datagrams from one socket and local address to one
 * destination, all of one size but the last (which may be shorter), form
 * one message that the kernel splits (UDP GSO, UDP_SEGMENT) when gso is on.
 * Payloads are not copied: they must stay where they are until the flush.
 * Destinations are copied, because a later packet of the batch may end the
 * allocation they came from. */
#ifndef RELAY_OUT_QUEUE_H
#define RELAY_OUT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "udp.h"

#define OUT_QUEUE_LEN 32
/* Most datagrams in one GSO send (the kernel's UDP_MAX_SEGMENTS) and the
 * most bytes (a UDP length). */
#define GSO_MAX_SEGMENTS 64
#define GSO_MAX_BYTES 65000

/* Packet info (for wildcard listeners) and the GSO segment size. */
union out_control {
    char buf[sizeof(union udp_control) + CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
};

struct out_queue {
    struct mmsghdr msgs[OUT_QUEUE_LEN];          /* one per message */
    struct iovec iov[OUT_QUEUE_LEN];             /* one per datagram; a message's are consecutive */
    union turn_addr to[OUT_QUEUE_LEN];           /* per message: the destination */
    union turn_addr from[OUT_QUEUE_LEN];         /* per message: local address for packet info */
    const union turn_addr *bound[OUT_QUEUE_LEN]; /* a wildcard listener's address, or NULL */
    int fd[OUT_QUEUE_LEN];
    union out_control ctl[OUT_QUEUE_LEN];
    uint16_t seg[OUT_QUEUE_LEN]; /* per message: size of its datagrams */
    size_t bytes[OUT_QUEUE_LEN];
    unsigned n;     /* messages */
    unsigned n_iov; /* datagrams */
    bool gso;       /* udp-gso, until the kernel refuses it */
};

/* Queues len bytes at data for `to`, sent from socket fd. bound: the
 * address of a wildcard listener, whose datagrams get packet info making
 * them leave from `from`; NULL for other sockets (from is then unused).
 * Flushes first when the queue is full. */
void out_queue_add(struct out_queue *q, int fd, const union turn_addr *bound,
                   const union turn_addr *from, const union turn_addr *to, void *data, size_t len);
/* Sends everything queued. A datagram the kernel refuses is lost, as on
 * the network; the rest still goes. */
void out_queue_flush(struct out_queue *q);

#endif
