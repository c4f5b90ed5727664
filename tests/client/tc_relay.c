/* br-testclient relay scenario: after Allocate, CreatePermission and
 * ChannelBind to peer sockets of our own on 127.0.0.1, sends ChannelData
 * (RFC 8656 12) and Send indications (RFC 8656 11), checks each payload
 * reaches the peer byte-exact from the relayed address, and that the peer's
 * echo comes back as ChannelData or a Data indication. Lockstep, so one lost
 * or altered packet fails the run. */
#include "tc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "turn/frame.h"

#define TC_WAIT_MS 2000
#define TC_CHANNEL 0x4000
#define TC_MAX_PAYLOAD 1200

struct tc_relay {
    const struct tc_opts *o;
    struct tc_sock s;
    struct tc_auth a;
    union turn_addr relayed;
    int peer_fd[2];
    union turn_addr peer[2]; /* [0] channel-bound, [1] permission only */
    unsigned sent[2], at_peer[2], back[2];
    const char *why;
};

static int tc_peer_open(union turn_addr *addr)
{
    socklen_t len = sizeof(*addr);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memset(addr, 0, sizeof(*addr));
    addr->in4.sin_family = AF_INET;
    addr->in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0) {
        return -1;
    }
    if (bind(fd, &addr->sa, sizeof(addr->in4)) < 0 || getsockname(fd, &addr->sa, &len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The peer receives payload from the relayed address, then echoes it. */
static bool tc_peer_roundtrip(struct tc_relay *t, int i, const uint8_t *payload, size_t len)
{
    uint8_t buf[TC_BUF];
    union turn_addr from;
    int n = tc_recv(t->peer_fd[i], buf, sizeof(buf), &from, TC_WAIT_MS, t->s.deadline_ms);

    if (n <= 0) {
        t->why = "peer-received-nothing";
        return false;
    }
    turn_addr_canonical(&from);
    if (!turn_addr_equal(&from, &t->relayed)) {
        t->why = "peer-saw-other-source";
        return false;
    }
    if ((size_t)n != len || memcmp(buf, payload, len) != 0) {
        t->why = "peer-payload-differs";
        return false;
    }
    t->at_peer[i]++;
    if (sendto(t->peer_fd[i], buf, (size_t)n, 0, &from.sa, turn_addr_len(&from)) < 0) {
        t->why = "peer-send-failed";
        return false;
    }
    return true;
}

/* Checks that a datagram from the server carries payload as expected for
 * peer i: ChannelData on our channel, or a Data indication from peer[1]. */
static int tc_match_back(struct tc_relay *t, int i, const uint8_t *buf, size_t n,
                         const uint8_t *payload, size_t len)
{
    if (i == 0) {
        uint16_t ch, plen;
        size_t flen;

        if (stun_classify(buf, n, true) != STUN_PKT_CHANNEL_DATA) {
            return 0;
        }
        if (turn_channel_decode(buf, n, false, &ch, &plen, &flen) != 0 || ch != TC_CHANNEL) {
            return -1;
        }
        return plen == len && memcmp(buf + TURN_CHANNEL_HEADER_LEN, payload, len) == 0 ? 1 : -1;
    }
    struct stun_msg m;
    union turn_addr from;
    const struct stun_attr *data;

    if (stun_msg_decode(&m, buf, n) != 0 || m.method != TURN_DATA || m.cls != STUN_INDICATION) {
        return 0;
    }
    data = stun_msg_find(&m, STUN_ATTR_DATA);
    if (!data || stun_msg_get_xaddr(&m, STUN_ATTR_XOR_PEER_ADDRESS, &from) != 0 ||
        !turn_addr_equal(&from, &t->peer[1])) {
        return -1;
    }
    return data->len == len && memcmp(stun_attr_value(&m, data), payload, len) == 0 ? 1 : -1;
}

static bool tc_client_back(struct tc_relay *t, int i, const uint8_t *payload, size_t len)
{
    uint64_t until = tc_now_ms() + TC_WAIT_MS;

    for (;;) {
        uint8_t buf[TC_BUF];
        union turn_addr from;
        uint64_t now = tc_now_ms();
        int n, m;

        if (now >= until) {
            t->why = i == 0 ? "no-channeldata-back" : "no-data-indication-back";
            return false;
        }
        n = tc_recv(t->s.fd, buf, sizeof(buf), &from, (unsigned)(until - now), t->s.deadline_ms);
        if (n < 0 && n != -ECONNREFUSED) {
            t->why = "client-recv-error";
            return false;
        }
        m = n > 0 ? tc_match_back(t, i, buf, (size_t)n, payload, len) : 0;
        if (m < 0) {
            t->why = i == 0 ? "channeldata-back-differs" : "data-indication-back-differs";
            return false;
        }
        if (m > 0) {
            t->back[i]++;
            return true;
        }
    }
}

/* One payload through peer i: ChannelData for 0, Send indication for 1. */
static bool tc_relay_one(struct tc_relay *t, int i, unsigned seq)
{
    uint8_t payload[TC_MAX_PAYLOAD], out[TC_BUF];
    /* Lengths 1..1200, most not a multiple of 4, to exercise padding. */
    size_t len = 1 + (seq * 37u + (unsigned)i * 101u) % TC_MAX_PAYLOAD;
    int olen;

    tcl_random(payload, len);
    if (i == 0) {
        memcpy(out + TURN_CHANNEL_HEADER_LEN, payload, len);
        olen = (int)turn_frame_channel(out, TC_CHANNEL, (uint16_t)len, false);
    } else {
        olen = tcl_send_build(out, sizeof(out), &t->peer[1], payload, len);
    }
    if (olen < 0 || send(t->s.fd, out, (size_t)olen, 0) < 0) {
        t->why = "client-send-failed";
        return false;
    }
    t->sent[i]++;
    return tc_peer_roundtrip(t, i, payload, len) && tc_client_back(t, i, payload, len);
}

static int tc_relay_setup(struct tc_relay *t)
{
    struct tc_resp resp;
    struct tcl_req perm = {.method = TURN_CREATE_PERMISSION, .transport = -1, .peer = &t->peer[1]};
    struct tcl_req bind = {
        .method = TURN_CHANNEL_BIND, .transport = -1, .peer = &t->peer[0], .channel = TC_CHANNEL};
    int r;

    t->why = "allocate";
    r = tc_allocate(&t->s, &t->a, &resp, &t->relayed);
    if (r != 0 || resp.code != 0) {
        return -1;
    }
    turn_addr_canonical(&t->relayed);
    t->why = "create-permission";
    r = tc_request(&t->s, &t->a, &perm, &resp);
    if (r != 0 || resp.code != 0) {
        return -1;
    }
    t->why = "channel-bind";
    r = tc_request(&t->s, &t->a, &bind, &resp);
    if (r != 0 || resp.code != 0) {
        return -1;
    }
    t->why = NULL;
    return 0;
}

int tc_run_relay(const struct tc_opts *o)
{
    struct tc_relay t = {.o = o, .peer_fd = {-1, -1}};
    struct tcl_req release = {.method = TURN_REFRESH, .transport = -1, .has_lifetime = true};
    struct tc_resp resp;
    char rb[64], lb[64], p0[64], p1[64];
    bool ok = false;

    if (tc_sock_open(&t.s, &o->server, &o->bind, tc_now_ms() + o->timeout_ms) != 0) {
        tc_result(o, false, "error=socket");
        return 1;
    }
    tc_auth_init(&t.a, o);
    t.peer_fd[0] = tc_peer_open(&t.peer[0]);
    t.peer_fd[1] = tc_peer_open(&t.peer[1]);
    if (t.peer_fd[0] < 0 || t.peer_fd[1] < 0) {
        t.why = "peer-socket";
        goto out;
    }
    if (tc_relay_setup(&t) != 0) {
        goto out;
    }
    for (unsigned k = 0; k < o->count; k++) {
        if (!tc_relay_one(&t, 0, k) || !tc_relay_one(&t, 1, k)) {
            goto out;
        }
    }
    ok = true;
    tc_request(&t.s, &t.a, &release, &resp);
out:
    tc_result(o, ok,
              "local=%s peers=%s,%s relayed=%s channel_sent=%u channel_at_peer=%u "
              "channel_back=%u send_sent=%u send_at_peer=%u data_back=%u%s%s",
              tc_addr_str(&t.s.local, lb, sizeof(lb)), tc_addr_str(&t.peer[0], p0, sizeof(p0)),
              tc_addr_str(&t.peer[1], p1, sizeof(p1)), tc_addr_str(&t.relayed, rb, sizeof(rb)),
              t.sent[0], t.at_peer[0], t.back[0], t.sent[1], t.at_peer[1], t.back[1],
              t.why ? " failed=" : "", t.why ? t.why : "");
    tc_sock_close(&t.s);
    for (int i = 0; i < 2; i++) {
        if (t.peer_fd[i] >= 0) {
            close(t.peer_fd[i]);
        }
    }
    return ok ? 0 : 1;
}
