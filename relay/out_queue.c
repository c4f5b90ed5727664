/* The worker's outgoing UDP queue: GSO grouping and sendmmsg runs. */
#include "out_queue.h"

#include <errno.h>
#include <netinet/udp.h>
#include <string.h>

/* Whether a datagram of len bytes can join message k. */
static bool joins(const struct out_queue *q, unsigned k, int fd, const union turn_addr *bound,
                  const union turn_addr *from, const union turn_addr *to, size_t len)
{
    const struct msghdr *h = &q->msgs[k].msg_hdr;
    const struct iovec *last = &h->msg_iov[h->msg_iovlen - 1];

    return q->fd[k] == fd && q->bound[k] == bound && last->iov_len == q->seg[k] &&
           len <= q->seg[k] && h->msg_iovlen < GSO_MAX_SEGMENTS &&
           q->bytes[k] + len <= GSO_MAX_BYTES && turn_addr_equal(&q->to[k], to) &&
           (!bound || turn_addr_equal(&q->from[k], from));
}

void out_queue_add(struct out_queue *q, int fd, const union turn_addr *bound,
                   const union turn_addr *from, const union turn_addr *to, void *data, size_t len)
{
    unsigned k;

    if (q->n_iov == OUT_QUEUE_LEN) {
        out_queue_flush(q);
    }
    q->iov[q->n_iov] = (struct iovec){data, len};
    if (q->gso && q->n > 0 && joins(q, q->n - 1, fd, bound, from, to, len)) {
        k = q->n - 1;
        q->msgs[k].msg_hdr.msg_iovlen++;
        q->bytes[k] += len;
        q->n_iov++;
        return;
    }
    k = q->n++;
    q->to[k] = *to;
    if (bound) {
        q->from[k] = *from;
    }
    q->bound[k] = bound;
    q->fd[k] = fd;
    q->seg[k] = (uint16_t)len;
    q->bytes[k] = len;
    q->msgs[k].msg_hdr = (struct msghdr){
        .msg_name = &q->to[k],
        .msg_namelen = turn_addr_len(to),
        .msg_iov = &q->iov[q->n_iov++],
        .msg_iovlen = 1,
    };
}

/* Packet info when the socket is a wildcard listener; the segment size
 * when the message holds more than one datagram. */
static void set_control(struct out_queue *q, unsigned k)
{
    struct msghdr *h = &q->msgs[k].msg_hdr;
    size_t len = 0;

    if (q->bound[k]) {
        union udp_control info;
        len = udp_source_control(&info, q->bound[k], &q->from[k]);
        memcpy(q->ctl[k].buf, info.buf, len);
    }
    if (h->msg_iovlen > 1) {
        struct cmsghdr *c = (struct cmsghdr *)(q->ctl[k].buf + len);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        memcpy(CMSG_DATA(c), &q->seg[k], sizeof(uint16_t));
        len += CMSG_SPACE(sizeof(uint16_t));
    }
    h->msg_control = len ? q->ctl[k].buf : NULL;
    h->msg_controllen = len;
}

/* Message k was refused as a whole: its datagrams go one by one. A kernel
 * or device without UDP GSO turns GSO off for good. */
static void send_apart(struct out_queue *q, unsigned k, int err)
{
    struct msghdr *h = &q->msgs[k].msg_hdr;
    struct iovec *iov = h->msg_iov;
    size_t n = h->msg_iovlen;

    if (err == EIO || err == ENOPROTOOPT || err == EOPNOTSUPP) {
        q->gso = false;
    }
    h->msg_iovlen = 1;
    set_control(q, k);
    for (size_t i = 0; i < n; i++) {
        h->msg_iov = &iov[i];
        (void)sendmsg(q->fd[k], h, MSG_DONTWAIT);
    }
}

void out_queue_flush(struct out_queue *q)
{
    unsigned start = 0;

    for (unsigned k = 0; k < q->n; k++) {
        set_control(q, k);
    }
    while (start < q->n) {
        unsigned end = start + 1;
        while (end < q->n && q->fd[end] == q->fd[start]) {
            end++;
        }
        while (start < end) {
            int sent = sendmmsg(q->fd[start], &q->msgs[start], end - start, MSG_DONTWAIT);
            if (sent > 0) {
                start += (unsigned)sent;
                continue;
            }
            if (q->msgs[start].msg_hdr.msg_iovlen > 1) {
                send_apart(q, start, errno);
            }
            start++;
        }
    }
    q->n = 0;
    q->n_iov = 0;
}
