/* blindrelay-bench: SRTP flows (RFC 3711, AES-CM-128 HMAC-SHA1-80 via
 * libsrtp2). The relay under test never sees these keys; every packet is
 * authenticated on receipt, so a single altered byte shows as an auth
 * failure. The sequence number, step and send time ride inside the
 * encrypted payload:
 *
 *   0                   1                   2                   3
 *  +-------------------------------------------------------------+
 *  | RTP header (12): V=2 PT=96 seq16 ts ssrc                     |
 *  +-------------------------------------------------------------+
 *  | seq32 | step | 0 0 0 | send time, CLOCK_MONOTONIC ns (8) | 0s |  encrypted
 *  +-------------------------------------------------------------+
 *  | auth tag (10)                                                |
 *  +-------------------------------------------------------------+
 */
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

#include <srtp2/srtp.h>

#define BC_RTP_HDR 12
#define BC_SRTP_TAG 10
#define BC_KEY_LEN 30 /* 16 key + 14 salt */

struct bc_flow {
    srtp_t tx;
    srtp_t rx;
    uint32_t tx_ssrc;
    uint32_t tx_seq;
    struct bc_seq seq;
};

uint64_t bc_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bc_wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bc_cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int bc_srtp_init(void)
{
    return srtp_init() == srtp_err_status_ok ? 0 : -EIO;
}

static int bc_session(srtp_t *s, srtp_ssrc_type_t type, uint32_t ssrc, uint8_t *key)
{
    srtp_policy_t p;

    memset(&p, 0, sizeof(p));
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
    p.ssrc.type = type;
    p.ssrc.value = ssrc;
    p.key = key;
    p.window_size = 8192; /* reordering tolerated before replay_old */
    return srtp_create(s, &p) == srtp_err_status_ok ? 0 : -EIO;
}

/* One direction: the sender's tx and the receiver's rx share a key. */
static int bc_direction(struct bc_flow *snd, struct bc_flow *rcv)
{
    uint8_t key[BC_KEY_LEN];
    int err;

    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key) ||
        getrandom(&snd->tx_ssrc, sizeof(snd->tx_ssrc), 0) != sizeof(snd->tx_ssrc)) {
        return -EIO;
    }
    err = bc_session(&snd->tx, ssrc_specific, snd->tx_ssrc, key);
    if (err == 0) {
        err = bc_session(&rcv->rx, ssrc_specific, snd->tx_ssrc, key);
    }
    memset(key, 0, sizeof(key));
    return err;
}

int bc_flow_pair(struct bc_flow **a, struct bc_flow **b)
{
    struct bc_flow *fa = calloc(1, sizeof(*fa));
    struct bc_flow *fb = calloc(1, sizeof(*fb));
    int err = -ENOMEM;

    if (!fa || !fb) {
        goto out;
    }
    err = bc_direction(fa, fb);
    if (err == 0) {
        err = bc_direction(fb, fa);
    }
out:
    if (err) {
        bc_flow_free(fa);
        bc_flow_free(fb);
        fa = fb = NULL;
    }
    *a = fa;
    *b = fb;
    return err;
}

void bc_flow_free(struct bc_flow *f)
{
    if (!f) {
        return;
    }
    if (f->tx) {
        srtp_dealloc(f->tx);
    }
    if (f->rx) {
        srtp_dealloc(f->rx);
    }
    free(f);
}

static void bc_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t bc_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int bc_flow_protect(struct bc_flow *f, uint8_t *out, unsigned size, uint8_t step, uint64_t sent_ns)
{
    uint32_t seq = f->tx_seq++;
    int len = (int)size - BC_SRTP_TAG;

    memset(out, 0, (size_t)len);
    out[0] = 0x80;
    out[1] = 96;
    out[2] = (uint8_t)(seq >> 8);
    out[3] = (uint8_t)seq;
    bc_put32(out + 4, seq * 160u);
    bc_put32(out + 8, f->tx_ssrc);
    bc_put32(out + BC_RTP_HDR, seq);
    out[BC_RTP_HDR + 4] = step;
    memcpy(out + BC_RTP_HDR + 8, &sent_ns, sizeof(sent_ns));
    if (srtp_protect(f->tx, out, &len) != srtp_err_status_ok || len != (int)size) {
        return -EIO;
    }
    return 0;
}

enum bc_rx_verdict bc_flow_unprotect(struct bc_flow *f, uint8_t *pkt, size_t len,
                                     struct bc_rx_info *info)
{
    int n = (int)len;
    srtp_err_status_t st;

    if (len < BC_MIN_SIZE || len > BC_PKT_BUF) {
        return BC_RX_BAD;
    }
    st = srtp_unprotect(f->rx, pkt, &n);
    if (st == srtp_err_status_auth_fail) {
        return BC_RX_AUTH_FAIL;
    }
    if (st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old) {
        return BC_RX_REPLAY;
    }
    if (st != srtp_err_status_ok || n < BC_RTP_HDR + 16) {
        return BC_RX_BAD;
    }
    info->seq = bc_get32(pkt + BC_RTP_HDR);
    info->step = pkt[BC_RTP_HDR + 4];
    memcpy(&info->sent_ns, pkt + BC_RTP_HDR + 8, sizeof(info->sent_ns));
    return BC_RX_OK;
}

uint32_t bc_flow_tx_count(const struct bc_flow *f)
{
    return f->tx_seq;
}

struct bc_seq *bc_flow_seq(struct bc_flow *f)
{
    return &f->seq;
}
