/* The peer side of the packet path: datagrams arriving on an allocation's
 * relay socket, framed in place (ChannelData or Data indication) and sent
 * to its client, a batch per sendmmsg over UDP. */
#include "worker_internal.h"

#include "relay_sock.h"

void peer_path_cb(evutil_socket_t fd, short what, void *arg)
{
    struct turn_relay *r = arg;
    struct worker *w = r->worker;
    struct turn_alloc *alloc = r->alloc;
    struct client_link *link = alloc->tuple.conn;
    int n;

    do {
        unsigned k = 0;
        n = worker_recv_batch(w, fd);
        uint64_t now = worker_clock().mono;
        for (int i = 0; i < n; i++) {
            uint8_t *data = worker_buf(w, (unsigned)i) + TURN_HEADROOM;
            size_t len = w->in.msgs[i].msg_len;
            turn_addr_canonical(&w->in.addr[i]);
            if (turn_server_on_peer(w->turn, alloc, &w->in.addr[i], &data, &len, now) !=
                TURN_FORWARD) {
                continue;
            }
            if (link->kind == CLIENT_STREAM) {
                stream_send((struct stream_conn *)link, data, len);
                continue;
            }
            w->out.iov[k] = (struct iovec){data, len};
            w->out.msgs[k].msg_hdr = (struct msghdr){.msg_iov = &w->out.iov[k], .msg_iovlen = 1};
            k++;
        }
        if (k) {
            udp_path_send_batch(w, (struct udp_listener *)link, &alloc->tuple, k);
        }
    } while (n == BATCH);
}
