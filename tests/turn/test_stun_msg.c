/* STUN decoding: framing rules, attribute rules, typed readers, RFC 7983
 * classification and ChannelData headers. Messages are written byte by byte
 * here, independently of the builder. */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "turn/stun_msg.h"

static const uint8_t tid[STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* A hand-written message: header, then TLVs padded with zeros. */
struct raw {
    uint8_t b[4096];
    size_t len;
};

static void raw_set_len(struct raw *r)
{
    r->b[2] = (uint8_t)((r->len - STUN_HEADER_LEN) >> 8);
    r->b[3] = (uint8_t)(r->len - STUN_HEADER_LEN);
}

static void raw_start(struct raw *r, uint16_t type)
{
    static const uint8_t cookie[4] = {0x21, 0x12, 0xa4, 0x42};

    memset(r, 0, sizeof(*r));
    r->b[0] = (uint8_t)(type >> 8);
    r->b[1] = (uint8_t)type;
    memcpy(r->b + 4, cookie, 4);
    memcpy(r->b + 8, tid, STUN_TID_LEN);
    r->len = STUN_HEADER_LEN;
}

static void raw_attr(struct raw *r, uint16_t type, const void *value, size_t len)
{
    cr_assert(r->len + 4 + len + 3 <= sizeof(r->b));
    r->b[r->len] = (uint8_t)(type >> 8);
    r->b[r->len + 1] = (uint8_t)type;
    r->b[r->len + 2] = (uint8_t)(len >> 8);
    r->b[r->len + 3] = (uint8_t)len;
    if (len > 0) {
        memcpy(r->b + r->len + 4, value, len);
    }
    r->len += 4 + (len + 3) / 4 * 4;
    raw_set_len(r);
}

static int raw_decode(struct stun_msg *msg, const struct raw *r)
{
    return stun_msg_decode(msg, r->b, r->len);
}

/* A one-attribute Binding request with a value of len bytes (all 0x01). */
static int decode_one(uint16_t type, size_t len)
{
    uint8_t ones[1024];
    struct raw r;
    struct stun_msg msg;

    memset(ones, 0x01, sizeof(ones));
    cr_assert(len <= sizeof(ones));
    raw_start(&r, 0x0001);
    raw_attr(&r, type, ones, len);
    return raw_decode(&msg, &r);
}

Test(stun_decode, header_only)
{
    struct raw r;
    struct stun_msg msg;

    raw_start(&r, 0x0001);
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(msg.len, STUN_HEADER_LEN);
    cr_assert_eq(msg.method, STUN_BINDING);
    cr_assert_eq(msg.cls, STUN_REQUEST);
    cr_assert_eq(msg.n_attrs, 0);
    cr_assert_eq(msg.n_unknown, 0);
    cr_assert_eq(memcmp(msg.tid, tid, STUN_TID_LEN), 0);
}

Test(stun_decode, method_and_class)
{
    static const struct {
        uint16_t type;
        uint16_t method;
        uint8_t cls;
    } cases[] = {
        {0x0001, STUN_BINDING, STUN_REQUEST},
        {0x0011, STUN_BINDING, STUN_INDICATION},
        {0x0101, STUN_BINDING, STUN_SUCCESS},
        {0x0111, STUN_BINDING, STUN_ERROR},
        {0x0003, TURN_ALLOCATE, STUN_REQUEST},
        {0x0103, TURN_ALLOCATE, STUN_SUCCESS},
        {0x0113, TURN_ALLOCATE, STUN_ERROR},
        {0x0004, TURN_REFRESH, STUN_REQUEST},
        {0x0016, TURN_SEND, STUN_INDICATION},
        {0x0017, TURN_DATA, STUN_INDICATION},
        {0x0108, TURN_CREATE_PERMISSION, STUN_SUCCESS},
        {0x0119, TURN_CHANNEL_BIND, STUN_ERROR},
        {0x000a, TURN_CONNECT, STUN_REQUEST},
        {0x010b, TURN_CONNECTION_BIND, STUN_SUCCESS},
        {0x001c, TURN_CONNECTION_ATTEMPT, STUN_INDICATION},
        {0x3eef, 0xfff, STUN_REQUEST},
        {0x3fff, 0xfff, STUN_ERROR},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct raw r;
        struct stun_msg msg;

        raw_start(&r, cases[i].type);
        cr_assert_eq(raw_decode(&msg, &r), 0);
        cr_assert_eq(msg.method, cases[i].method, "type 0x%04x", cases[i].type);
        cr_assert_eq(msg.cls, cases[i].cls, "type 0x%04x", cases[i].type);
    }
}

Test(stun_decode, bad_header)
{
    struct raw r;
    struct stun_msg msg;

    raw_start(&r, 0x0001);
    r.b[7] ^= 1; /* cookie */
    cr_assert_eq(raw_decode(&msg, &r), -EBADMSG);
    raw_start(&r, 0x4001); /* top bits 01 */
    cr_assert_eq(raw_decode(&msg, &r), -EBADMSG);
    raw_start(&r, 0x8001); /* top bits 10 */
    cr_assert_eq(raw_decode(&msg, &r), -EBADMSG);
    raw_start(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_LIFETIME, "\0\0\0\1", 4);
    r.b[3] = 6; /* length not a multiple of 4 */
    cr_assert_eq(raw_decode(&msg, &r), -EBADMSG);
    /* Garbage is refused before the whole header has arrived. */
    cr_assert_eq(stun_msg_decode(&msg, (const uint8_t *)"\x80", 1), -EBADMSG);
    cr_assert_eq(stun_msg_decode(&msg, (const uint8_t *)"\x00\x01\x00\x01", 4), -EBADMSG);
    cr_assert_eq(stun_msg_decode(&msg, (const uint8_t *)"\x00\x01\x00\x00\x21\x12\xa4\x43", 8),
                 -EBADMSG);
    cr_assert_eq(stun_msg_decode(&msg, NULL, 0), -EAGAIN);
}

Test(stun_decode, oversized_length_field)
{
    struct raw r;
    struct stun_msg msg;
    static uint8_t big[STUN_HEADER_LEN + 0xFFFC];

    raw_start(&r, 0x0001);
    memcpy(big, r.b, STUN_HEADER_LEN);
    big[2] = 0xFF;
    big[3] = 0xEC; /* 20 + 0xFFEC > 65535 */
    cr_assert_eq(stun_msg_decode(&msg, big, sizeof(big)), -EBADMSG);
    /* The largest length whose offsets fit in 16 bits is accepted: a run of
     * comprehension-optional unknown attributes, ignored. */
    big[2] = 0xFF;
    big[3] = 0xE8;
    for (size_t off = STUN_HEADER_LEN; off < STUN_HEADER_LEN + 0xFFE8; off += 4) {
        big[off] = 0x80;
        big[off + 1] = 0x99;
        big[off + 2] = 0;
        big[off + 3] = 0;
    }
    cr_assert_eq(stun_msg_decode(&msg, big, STUN_HEADER_LEN + 0xFFE8), 0);
    cr_assert_eq(msg.n_attrs, 0);
}

Test(stun_decode, truncation_asks_for_more)
{
    struct raw r;
    struct stun_msg msg;

    raw_start(&r, 0x0003);
    raw_attr(&r, STUN_ATTR_REQUESTED_TRANSPORT, "\x11\0\0\0", 4);
    raw_attr(&r, STUN_ATTR_SOFTWARE, "blindrelay", 10);
    for (size_t n = 0; n < r.len; n++) {
        cr_assert_eq(stun_msg_decode(&msg, r.b, n), -EAGAIN, "prefix %zu", n);
    }
    /* Trailing bytes belong to the next message on a stream. */
    cr_assert_eq(stun_msg_decode(&msg, r.b, r.len + 7), 0);
    cr_assert_eq(msg.len, r.len);
}

Test(stun_decode, attribute_overflow)
{
    struct raw r;
    struct stun_msg msg;

    /* Value length runs past the message. */
    raw_start(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_LIFETIME, "\0\0\0\1", 4);
    r.b[STUN_HEADER_LEN + 3] = 8;
    cr_assert_eq(raw_decode(&msg, &r), -EBADMSG);
    /* Value fits but its padding does not. */
    raw_start(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_SOFTWARE, "12345678", 8);
    r.b[STUN_HEADER_LEN + 3] = 9;
    cr_assert_eq(raw_decode(&msg, &r), -EBADMSG);
    /* Padding is present and its content is ignored. */
    raw_start(&r, 0x0001);
    raw_attr(&r, STUN_ATTR_SOFTWARE, "12345", 5);
    r.b[STUN_HEADER_LEN + 4 + 5] = 0x20;
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(msg.attrs[0].len, 5);
}

Test(stun_decode, fixed_sizes)
{
    static const struct {
        uint16_t type;
        size_t bad[3];
        size_t good;
    } cases[] = {
        {STUN_ATTR_LIFETIME, {0, 3, 8}, 4},
        {STUN_ATTR_CHANNEL_NUMBER, {2, 5, 8}, 4},
        {STUN_ATTR_REQUESTED_TRANSPORT, {1, 2, 8}, 4},
        {STUN_ATTR_REQUESTED_ADDRESS_FAMILY, {1, 2, 8}, 4},
        {STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, {1, 2, 8}, 4},
        {STUN_ATTR_EVEN_PORT, {0, 2, 4}, 1},
        {STUN_ATTR_DONT_FRAGMENT, {1, 4, 8}, 0},
        {STUN_ATTR_RESERVATION_TOKEN, {4, 7, 16}, 8},
        {STUN_ATTR_MESSAGE_INTEGRITY, {16, 19, 32}, 20},
        {STUN_ATTR_MESSAGE_INTEGRITY_SHA256, {12, 18, 36}, 16},
        {STUN_ATTR_MESSAGE_INTEGRITY_SHA256, {15, 31, 0}, 32},
        {STUN_ATTR_USERHASH, {0, 31, 33}, 32},
        {STUN_ATTR_XOR_PEER_ADDRESS, {4, 12, 24}, 8},
        {STUN_ATTR_XOR_RELAYED_ADDRESS, {7, 16, 21}, 20},
        {STUN_ATTR_XOR_MAPPED_ADDRESS, {0, 9, 19}, 8},
        {STUN_ATTR_MAPPED_ADDRESS, {0, 9, 19}, 20},
        {STUN_ATTR_ICMP, {0, 4, 12}, 8},
        {STUN_ATTR_ICE_CONTROLLING, {0, 4, 12}, 8},
        {STUN_ATTR_PRIORITY, {0, 2, 8}, 4},
        {STUN_ATTR_CONNECTION_ID, {0, 2, 8}, 4},
        {STUN_ATTR_ERROR_CODE, {0, 2, 3}, 4},
        {STUN_ATTR_UNKNOWN_ATTRIBUTES, {1, 3, 5}, 6},
        {STUN_ATTR_USERNAME, {513, 600, 1000}, 512},
        {STUN_ATTR_REALM, {764, 800, 1000}, 763},
        {STUN_ATTR_NONCE, {764, 800, 1000}, 763},
        {STUN_ATTR_SOFTWARE, {764, 800, 1000}, 763},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t j = 0; j < 3; j++) {
            if (cases[i].bad[j] == 0 && j > 0) {
                continue;
            }
            cr_assert_eq(decode_one(cases[i].type, cases[i].bad[j]), -EBADMSG,
                         "type 0x%04x len %zu", cases[i].type, cases[i].bad[j]);
        }
        cr_assert_eq(decode_one(cases[i].type, cases[i].good), 0, "type 0x%04x len %zu",
                     cases[i].type, cases[i].good);
    }
}

Test(stun_decode, attribute_limit)
{
    struct raw r;
    struct stun_msg msg;

    raw_start(&r, 0x0004);
    for (int i = 0; i < STUN_MAX_ATTRS; i++) {
        raw_attr(&r, STUN_ATTR_LIFETIME, "\0\0\0\1", 4);
    }
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(msg.n_attrs, STUN_MAX_ATTRS);
    raw_attr(&r, STUN_ATTR_LIFETIME, "\0\0\0\1", 4);
    cr_assert_eq(raw_decode(&msg, &r), -EBADMSG);
}

Test(stun_decode, unknown_attributes)
{
    struct raw r;
    struct stun_msg msg;

    raw_start(&r, 0x0003);
    raw_attr(&r, 0x0030, "x", 1);
    raw_attr(&r, 0x8050, "opt", 3); /* comprehension-optional: ignored */
    raw_attr(&r, 0x7FFF, NULL, 0);
    raw_attr(&r, 0x0030, "y", 1); /* listed once */
    raw_attr(&r, STUN_ATTR_LIFETIME, "\0\0\0\1", 4);
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(msg.n_unknown, 2);
    cr_assert_eq(msg.unknown[0], 0x0030);
    cr_assert_eq(msg.unknown[1], 0x7FFF);
    cr_assert_null(stun_msg_find(&msg, 0x8050));
    cr_assert_not_null(stun_msg_find(&msg, STUN_ATTR_LIFETIME));

    raw_start(&r, 0x0003);
    raw_attr(&r, 0x8050, "opt", 3);
    raw_attr(&r, 0xC001, NULL, 0);
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(msg.n_unknown, 0);

    /* More distinct unknowns than the list holds: the first ones are kept. */
    raw_start(&r, 0x0003);
    for (uint16_t t = 0x0040; t < 0x0040 + 2 * STUN_MAX_UNKNOWN; t++) {
        raw_attr(&r, t, NULL, 0);
    }
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(msg.n_unknown, STUN_MAX_UNKNOWN);
    cr_assert_eq(msg.unknown[STUN_MAX_UNKNOWN - 1], 0x0040 + STUN_MAX_UNKNOWN - 1);
}

/* Trailing attributes: built with the builder so MI and FINGERPRINT are
 * right, then extended by hand. */
Test(stun_decode, after_fingerprint_rejected)
{
    uint8_t buf[256];
    struct stun_builder b;
    struct stun_msg msg;
    int n;

    stun_build_start(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    stun_build_fingerprint(&b);
    n = stun_build_finish(&b);
    cr_assert_eq(stun_msg_decode(&msg, buf, (size_t)n), 0);
    cr_assert_not_null(stun_msg_find(&msg, STUN_ATTR_FINGERPRINT));
    stun_build_attr(&b, STUN_ATTR_SOFTWARE, "late", 4);
    n = stun_build_finish(&b);
    cr_assert_eq(stun_msg_decode(&msg, buf, (size_t)n), -EBADMSG);

    stun_build_start(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    stun_build_fingerprint(&b);
    stun_build_fingerprint(&b);
    n = stun_build_finish(&b);
    cr_assert_eq(stun_msg_decode(&msg, buf, (size_t)n), -EBADMSG);

    /* A wrong FINGERPRINT value. */
    stun_build_start(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    stun_build_attr(&b, STUN_ATTR_SOFTWARE, "x", 1);
    stun_build_fingerprint(&b);
    n = stun_build_finish(&b);
    buf[n - 1] ^= 1;
    cr_assert_eq(stun_msg_decode(&msg, buf, (size_t)n), -EBADMSG);
}

Test(stun_decode, after_integrity_ignored)
{
    static const uint8_t key[] = "secret";
    uint8_t buf[256];
    struct stun_builder b;
    struct stun_msg msg;
    int n;

    stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_REQUEST, tid);
    stun_build_attr(&b, STUN_ATTR_USERNAME, "alice", 5);
    stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY, key, 6);
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 600); /* ignored */
    stun_build_attr(&b, 0x0031, "?", 1);         /* ignored, not unknown */
    stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, key, 6);
    stun_build_attr(&b, STUN_ATTR_USERNAME, "mallory", 7);         /* ignored */
    stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY, key, 6); /* after MI-SHA256: ignored */
    stun_build_fingerprint(&b);
    n = stun_build_finish(&b);
    cr_assert_gt(n, 0);
    cr_assert_eq(stun_msg_decode(&msg, buf, (size_t)n), 0);
    cr_assert_eq(msg.n_attrs, 4);
    cr_assert_eq(msg.n_unknown, 0);
    cr_assert_null(stun_msg_find(&msg, STUN_ATTR_LIFETIME));
    cr_assert_eq(stun_msg_find(&msg, STUN_ATTR_USERNAME)->len, 5);
    cr_assert_not_null(stun_msg_find(&msg, STUN_ATTR_FINGERPRINT));
    /* Each MAC covers the length as if the message ended right after it. */
    cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY, key, 6), 0);
    cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, key, 6), 0);
    cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY, key, 5), -EACCES);
}

Test(stun_decode, integrity_absent)
{
    struct raw r;
    struct stun_msg msg;

    raw_start(&r, 0x0001);
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY, NULL, 0), -ENOENT);
    cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, NULL, 0),
                 -ENOENT);
}

Test(stun_read, scalars)
{
    struct raw r;
    struct stun_msg msg;
    uint32_t u = 0;
    uint16_t ch = 0;
    uint8_t proto = 0;
    uint8_t fam = 0;
    bool reserve = false;

    raw_start(&r, 0x0003);
    raw_attr(&r, STUN_ATTR_LIFETIME, "\x00\x00\x0e\x10", 4);
    raw_attr(&r, STUN_ATTR_CHANNEL_NUMBER, "\x40\x01\x00\x00", 4);
    raw_attr(&r, STUN_ATTR_REQUESTED_TRANSPORT, "\x11\x00\x00\x00", 4);
    raw_attr(&r, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, "\x02\x00\x00\x00", 4);
    raw_attr(&r, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, "\x03\x00\x00\x00", 4);
    raw_attr(&r, STUN_ATTR_EVEN_PORT, "\x80", 1);
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(stun_msg_get_u32(&msg, STUN_ATTR_LIFETIME, &u), 0);
    cr_assert_eq(u, 3600);
    cr_assert_eq(stun_msg_get_channel(&msg, &ch), 0);
    cr_assert_eq(ch, 0x4001);
    cr_assert_eq(stun_msg_get_transport(&msg, &proto), 0);
    cr_assert_eq(proto, 17);
    cr_assert_eq(stun_msg_get_family(&msg, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &fam), 0);
    cr_assert_eq(fam, 0x02);
    /* An unsupported family comes back as is, for a 440 answer. */
    cr_assert_eq(stun_msg_get_family(&msg, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &fam), 0);
    cr_assert_eq(fam, 0x03);
    cr_assert_eq(stun_msg_get_even_port(&msg, &reserve), 0);
    cr_assert(reserve);
    /* Absent, or present with a size the reader cannot take. */
    cr_assert_eq(stun_msg_get_u32(&msg, STUN_ATTR_PRIORITY, &u), -ENOENT);
    cr_assert_eq(stun_msg_get_u32(&msg, STUN_ATTR_EVEN_PORT, &u), -EBADMSG);

    raw_start(&r, 0x0003);
    raw_attr(&r, STUN_ATTR_EVEN_PORT, "\x7f", 1);
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(stun_msg_get_even_port(&msg, &reserve), 0);
    cr_assert(!reserve);
    cr_assert_eq(stun_msg_get_channel(&msg, &ch), -ENOENT);
    cr_assert_eq(stun_msg_get_transport(&msg, &proto), -ENOENT);
}

Test(stun_read, error_code)
{
    struct raw r;
    struct stun_msg msg;
    const char *reason = NULL;
    size_t reason_len = 0;
    int code = 0;

    raw_start(&r, 0x0113);
    raw_attr(&r, STUN_ATTR_ERROR_CODE, "\x00\x00\x04\x26Stale Nonce", 15);
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(stun_msg_get_error(&msg, &code, &reason, &reason_len), 0);
    cr_assert_eq(code, 438);
    cr_assert_eq(reason_len, 11);
    cr_assert_eq(memcmp(reason, "Stale Nonce", 11), 0);

    static const char *const bad[] = {"\x00\x00\x02\x00", "\x00\x00\x07\x00", "\x00\x00\x04\x64"};
    for (size_t i = 0; i < 3; i++) {
        raw_start(&r, 0x0113);
        raw_attr(&r, STUN_ATTR_ERROR_CODE, bad[i], 4);
        cr_assert_eq(raw_decode(&msg, &r), 0);
        cr_assert_eq(stun_msg_get_error(&msg, &code, &reason, &reason_len), -EBADMSG);
    }
    raw_start(&r, 0x0113);
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(stun_msg_get_error(&msg, &code, &reason, &reason_len), -ENOENT);
}

Test(stun_read, addresses)
{
    /* XOR-PEER-ADDRESS 192.0.2.1:32853 (RFC 5769 2.2 bytes), twice with a
     * second peer, then MAPPED-ADDRESS 198.51.100.7:3478 in the clear. */
    static const uint8_t xpeer1[8] = {0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
    static const uint8_t xpeer2[8] = {0x00, 0x01, 0xa1, 0x46, 0xe1, 0x12, 0xa6, 0x40};
    static const uint8_t mapped[8] = {0x00, 0x01, 0x0d, 0x96, 198, 51, 100, 7};
    struct raw r;
    struct stun_msg msg;
    union turn_addr a;

    raw_start(&r, 0x0008);
    memcpy(r.b + 8, "\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae", 12);
    raw_attr(&r, STUN_ATTR_XOR_PEER_ADDRESS, xpeer1, 8);
    raw_attr(&r, STUN_ATTR_XOR_PEER_ADDRESS, xpeer2, 8);
    raw_attr(&r, STUN_ATTR_MAPPED_ADDRESS, mapped, 8);
    cr_assert_eq(raw_decode(&msg, &r), 0);
    cr_assert_eq(stun_msg_get_xaddr(&msg, STUN_ATTR_XOR_PEER_ADDRESS, &a), 0);
    cr_assert_eq(a.sa.sa_family, AF_INET);
    cr_assert_eq(ntohs(a.in4.sin_port), 32853);
    cr_assert_eq(ntohl(a.in4.sin_addr.s_addr), 0xc0000201u);
    cr_assert_eq(stun_attr_get_xaddr(&msg, &msg.attrs[1], &a), 0);
    cr_assert_eq(ntohs(a.in4.sin_port), 32852);
    cr_assert_eq(ntohl(a.in4.sin_addr.s_addr), 0xc0000202u);
    cr_assert_eq(stun_msg_get_addr(&msg, STUN_ATTR_MAPPED_ADDRESS, &a), 0);
    cr_assert_eq(ntohs(a.in4.sin_port), 3478);
    cr_assert_eq(ntohl(a.in4.sin_addr.s_addr), 0xc6336407u);
    cr_assert_eq(stun_msg_get_xaddr(&msg, STUN_ATTR_XOR_RELAYED_ADDRESS, &a), -ENOENT);
    cr_assert_eq(stun_msg_get_addr(&msg, STUN_ATTR_ALTERNATE_SERVER, &a), -ENOENT);
}

Test(stun_read, address_family_mismatch)
{
    static const uint8_t v6_in_8[8] = {0x00, 0x02, 0x00, 0x01, 1, 2, 3, 4};
    static const uint8_t v4_in_20[20] = {0x00, 0x01, 0x00, 0x01};
    static const uint8_t fam3[8] = {0x00, 0x03, 0x00, 0x01, 1, 2, 3, 4};
    const uint8_t *values[] = {v6_in_8, v4_in_20, fam3};
    const size_t lens[] = {8, 20, 8};
    union turn_addr a;

    for (size_t i = 0; i < 3; i++) {
        struct raw r;
        struct stun_msg msg;

        raw_start(&r, 0x0008);
        raw_attr(&r, STUN_ATTR_XOR_PEER_ADDRESS, values[i], lens[i]);
        raw_attr(&r, STUN_ATTR_ALTERNATE_SERVER, values[i], lens[i]);
        cr_assert_eq(raw_decode(&msg, &r), 0);
        cr_assert_eq(stun_msg_get_xaddr(&msg, STUN_ATTR_XOR_PEER_ADDRESS, &a), -EBADMSG);
        cr_assert_eq(stun_msg_get_addr(&msg, STUN_ATTR_ALTERNATE_SERVER, &a), -EBADMSG);
    }
}

Test(stun_classify, first_byte)
{
    uint8_t b[1] = {0};

    cr_assert_eq(stun_classify(b, 0, false), STUN_PKT_OTHER);
    for (int v = 0; v < 256; v++) {
        enum stun_pkt_kind want = STUN_PKT_OTHER;
        enum stun_pkt_kind want5766 = STUN_PKT_OTHER;

        b[0] = (uint8_t)v;
        if (v <= 3) {
            want = want5766 = STUN_PKT_STUN;
        } else if (v >= 64 && v <= 79) {
            want = want5766 = STUN_PKT_CHANNEL_DATA;
        } else if (v >= 80 && v <= 127) {
            want5766 = STUN_PKT_CHANNEL_DATA;
        }
        cr_assert_eq(stun_classify(b, 1, false), want, "byte %d", v);
        cr_assert_eq(stun_classify(b, 1, true), want5766, "byte %d (5766)", v);
    }
}

Test(stun_reason, phrases)
{
    static const int codes[] = {300, 400, 401, 403, 405, 420, 437, 438, 440,
                                441, 442, 443, 446, 447, 486, 500, 508};

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        cr_assert_gt(strlen(stun_reason(codes[i])), 0, "code %d", codes[i]);
    }
    cr_assert_str_eq(stun_reason(401), "Unauthorized");
    cr_assert_str_eq(stun_reason(438), "Stale Nonce");
    cr_assert_str_eq(stun_reason(508), "Insufficient Capacity");
    cr_assert_str_eq(stun_reason(499), "");
    cr_assert_str_eq(stun_reason(0), "");
}

Test(channel_decode, datagram)
{
    static const uint8_t frame[] = {0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};
    uint16_t ch = 0;
    uint16_t plen = 0;
    size_t flen = 0;

    cr_assert_eq(turn_channel_decode(frame, 9, false, &ch, &plen, &flen), 0);
    cr_assert_eq(ch, 0x4001);
    cr_assert_eq(plen, 5);
    cr_assert_eq(flen, 9);
    /* Padding or other trailing bytes are allowed on UDP (RFC 8656 12.5). */
    cr_assert_eq(turn_channel_decode(frame, sizeof(frame), false, &ch, &plen, &flen), 0);
    cr_assert_eq(flen, 9);
    for (size_t n = 0; n < 9; n++) {
        cr_assert_eq(turn_channel_decode(frame, n, false, &ch, &plen, &flen), -EBADMSG);
    }
}

Test(channel_decode, stream)
{
    uint8_t two[12 + 4];
    uint16_t ch = 0;
    uint16_t plen = 0;
    size_t flen = 0;

    memcpy(two, "\x4f\xff\x00\x05hello\0\0\0", 12);
    memcpy(two + 12, "\x40\x00\x00\x00", 4); /* empty payload */
    for (size_t n = 0; n < 12; n++) {
        cr_assert_eq(turn_channel_decode(two, n, true, &ch, &plen, &flen), -EAGAIN, "len %zu", n);
    }
    cr_assert_eq(turn_channel_decode(two, sizeof(two), true, &ch, &plen, &flen), 0);
    cr_assert_eq(ch, 0x4fff);
    cr_assert_eq(plen, 5);
    cr_assert_eq(flen, 12);
    cr_assert_eq(turn_channel_decode(two + 12, 4, true, &ch, &plen, &flen), 0);
    cr_assert_eq(ch, 0x4000);
    cr_assert_eq(plen, 0);
    cr_assert_eq(flen, 4);
}

Test(channel_decode, bad_numbers)
{
    static const uint8_t cases[][4] = {
        {0x3f, 0xff, 0, 0},
        {0x80, 0x00, 0, 0},
        {0x00, 0x01, 0, 0},
        {0xff, 0xff, 0, 0},
    };
    uint16_t ch = 0;
    uint16_t plen = 0;
    size_t flen = 0;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(turn_channel_decode(cases[i], 4, false, &ch, &plen, &flen), -EBADMSG);
        cr_assert_eq(turn_channel_decode(cases[i], 4, true, &ch, &plen, &flen), -EBADMSG);
        cr_assert_eq(turn_channel_decode(cases[i], 1, true, &ch, &plen, &flen), -EBADMSG);
    }
    /* The RFC 5766 range parses; whether to accept it is the caller's call. */
    cr_assert_eq(
        turn_channel_decode((const uint8_t *)"\x7f\xff\x00\x00", 4, false, &ch, &plen, &flen), 0);
    cr_assert_eq(ch, 0x7fff);
}
