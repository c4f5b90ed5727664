/* STUN message building (RFC 8489 5, 14; RFC 8656 18) into a caller-owned
 * buffer. Every write is bounds-checked against cap; the first overflow
 * makes the builder a no-op and stun_build_finish report it. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "stun_msg.h"
#include "stun_priv.h"

/* The largest message the decoder takes: attribute offsets must fit in the
 * uint16_t of struct stun_attr, so 20 + length stays within 65535. */
#define STUN_BUILD_MAX (STUN_HEADER_LEN + 0xFFE8u)

/*  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|     STUN Message Type     |         Message Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Magic Cookie                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Transaction ID (96 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Message type bits: M11..M7 C1 M6..M4 C0 M3..M0 (RFC 8489 5).
 */
void stun_build_start(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
                      uint8_t cls, const uint8_t tid[STUN_TID_LEN])
{
    uint16_t type;

    assert(b != NULL && tid != NULL);
    assert(method <= 0xFFF && cls <= STUN_ERROR);
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    b->err = 0;
    if (buf == NULL || cap < STUN_HEADER_LEN) {
        b->err = -ENOBUFS;
        return;
    }
    type = (uint16_t)((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                      ((cls & 1) << 4) | ((cls & 2) << 7));
    stun_wr16(buf, type);
    stun_wr16(buf + 2, 0);
    stun_wr32(buf + 4, STUN_MAGIC_COOKIE);
    memcpy(buf + 8, tid, STUN_TID_LEN);
    b->len = STUN_HEADER_LEN;
}

/* Appends an attribute header and zeroed padding, updates the header length,
 * and returns where the len value bytes go; NULL (and a sticky error) when
 * they do not fit. */
static uint8_t *attr_reserve(struct stun_builder *b, uint16_t type, size_t len)
{
    size_t padded;
    uint8_t *p;

    if (b->err != 0) {
        return NULL;
    }
    padded = len <= 0xFFFF ? (len + 3) / 4 * 4 : SIZE_MAX - 4;
    if (4 + padded > b->cap - b->len || b->len + 4 + padded > STUN_BUILD_MAX) {
        b->err = -ENOBUFS;
        return NULL;
    }
    p = b->buf + b->len;
    stun_wr16(p, type);
    stun_wr16(p + 2, (uint16_t)len);
    memset(p + 4 + len, 0, padded - len);
    b->len += 4 + padded;
    stun_wr16(b->buf + 2, (uint16_t)(b->len - STUN_HEADER_LEN));
    return p + 4;
}

void stun_build_attr(struct stun_builder *b, uint16_t type, const void *value, size_t len)
{
    uint8_t *p = attr_reserve(b, type, len);

    if (p != NULL && len > 0) {
        memcpy(p, value, len);
    }
}

void stun_build_u32(struct stun_builder *b, uint16_t type, uint32_t value)
{
    uint8_t *p = attr_reserve(b, type, 4);

    if (p != NULL) {
        stun_wr32(p, value);
    }
}

/* Family, port and address, masked with cookie || transaction ID (the 16
 * bytes at offset 4 of the header) when xor is set (RFC 8489 14.1, 14.2). */
static void build_addr(struct stun_builder *b, uint16_t type, const union turn_addr *addr, bool xor)
{
    bool v6 = addr->sa.sa_family == AF_INET6;
    const uint8_t *ip =
        v6 ? (const uint8_t *)&addr->in6.sin6_addr : (const uint8_t *)&addr->in4.sin_addr;
    size_t n = v6 ? 16 : 4;
    uint16_t port = ntohs(v6 ? addr->in6.sin6_port : addr->in4.sin_port);
    uint8_t *p;

    assert(addr->sa.sa_family == AF_INET || v6);
    p = attr_reserve(b, type, 4 + n);
    if (p == NULL) {
        return;
    }
    if (xor) {
        port ^= (uint16_t)(STUN_MAGIC_COOKIE >> 16);
    }
    p[0] = 0;
    p[1] = v6 ? 0x02 : 0x01;
    stun_wr16(p + 2, port);
    for (size_t i = 0; i < n; i++) {
        p[4 + i] = (uint8_t)(ip[i] ^ (xor? b->buf[4 + i] : 0));
    }
}

void stun_build_xaddr(struct stun_builder *b, uint16_t type, const union turn_addr *addr)
{
    build_addr(b, type, addr, true);
}

void stun_build_addr(struct stun_builder *b, uint16_t type, const union turn_addr *addr)
{
    build_addr(b, type, addr, false);
}

/* Phrases of RFC 8489 14.8, RFC 8656 19, RFC 6062 6.3, RFC 8016 and RFC 8445. */
const char *stun_reason(int code)
{
    switch (code) {
    case 300:
        return "Try Alternate";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 405:
        return "Mobility Forbidden";
    case 420:
        return "Unknown Attribute";
    case 437:
        return "Allocation Mismatch";
    case 438:
        return "Stale Nonce";
    case 440:
        return "Address Family not Supported";
    case 441:
        return "Wrong Credentials";
    case 442:
        return "Unsupported Transport Protocol";
    case 443:
        return "Peer Address Family Mismatch";
    case 446:
        return "Connection Already Exists";
    case 447:
        return "Connection Timeout or Failure";
    case 486:
        return "Allocation Quota Reached";
    case 487:
        return "Role Conflict";
    case 500:
        return "Server Error";
    case 508:
        return "Insufficient Capacity";
    default:
        return "";
    }
}

void stun_build_error(struct stun_builder *b, int code)
{
    stun_build_error_reason(b, code, stun_reason(code));
}

void stun_build_error_reason(struct stun_builder *b, int code, const char *reason)
{
    size_t reason_len = strlen(reason);
    uint8_t *p;

    assert(code >= 300 && code <= 699);
    p = attr_reserve(b, STUN_ATTR_ERROR_CODE, 4 + reason_len);
    if (p == NULL) {
        return;
    }
    p[0] = 0;
    p[1] = 0;
    p[2] = (uint8_t)(code / 100);
    p[3] = (uint8_t)(code % 100);
    memcpy(p + 4, reason, reason_len);
}

void stun_build_unknown(struct stun_builder *b, const uint16_t *types, unsigned n)
{
    uint8_t *p = attr_reserve(b, STUN_ATTR_UNKNOWN_ATTRIBUTES, (size_t)n * 2);

    if (p == NULL) {
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        stun_wr16(p + 2 * i, types[i]);
    }
}

void stun_build_channel(struct stun_builder *b, uint16_t channel)
{
    stun_build_u32(b, STUN_ATTR_CHANNEL_NUMBER, (uint32_t)channel << 16);
}

void stun_build_integrity(struct stun_builder *b, uint16_t attr_type, const uint8_t *key,
                          size_t key_len)
{
    size_t mac_len = attr_type == STUN_ATTR_MESSAGE_INTEGRITY ? STUN_MI_LEN : STUN_MI256_MAX;
    uint8_t mac[STUN_MI256_MAX];
    size_t start = b->len;
    uint8_t *p;

    assert(attr_type == STUN_ATTR_MESSAGE_INTEGRITY ||
           attr_type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
    /* Reserving first sets the header length to end after this attribute,
     * which is the length the HMAC covers (RFC 8489 14.5). */
    p = attr_reserve(b, attr_type, mac_len);
    if (p == NULL) {
        return;
    }
    if (stun_hmac(attr_type, key, key_len, b->buf, start, stun_rd16(b->buf + 2), mac) != 0) {
        b->err = -EIO;
    } else {
        memcpy(p, mac, mac_len);
    }
    OPENSSL_cleanse(mac, sizeof(mac));
}

void stun_build_fingerprint(struct stun_builder *b)
{
    size_t start = b->len;
    uint8_t *p = attr_reserve(b, STUN_ATTR_FINGERPRINT, 4);

    /* The header length already counts the FINGERPRINT itself (14.7). */
    if (p != NULL) {
        stun_wr32(p, stun_crc32(b->buf, start) ^ STUN_FINGERPRINT_XOR);
    }
}

int stun_build_finish(struct stun_builder *b)
{
    if (b->err != 0) {
        return b->err;
    }
    return (int)b->len;
}
