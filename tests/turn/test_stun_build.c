/* STUN building: every builder round-trips through the decoder, integrity
 * and fingerprint verify, and no write ever passes cap. */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "turn/stun_msg.h"

static const uint8_t tid[STUN_TID_LEN] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
                                          0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab};
static const uint8_t key[] = "long-term key bytes";

static union turn_addr addr_of(const char *ip, uint16_t port)
{
    union turn_addr a;

    memset(&a, 0, sizeof(a));
    if (strchr(ip, ':')) {
        a.in6.sin6_family = AF_INET6;
        a.in6.sin6_port = htons(port);
        cr_assert_eq(inet_pton(AF_INET6, ip, &a.in6.sin6_addr), 1);
    } else {
        a.in4.sin_family = AF_INET;
        a.in4.sin_port = htons(port);
        cr_assert_eq(inet_pton(AF_INET, ip, &a.in4.sin_addr), 1);
    }
    return a;
}

static void expect_addr_eq(const union turn_addr *got, const union turn_addr *want)
{
    cr_assert_eq(got->sa.sa_family, want->sa.sa_family);
    if (want->sa.sa_family == AF_INET) {
        cr_assert_eq(got->in4.sin_port, want->in4.sin_port);
        cr_assert_eq(got->in4.sin_addr.s_addr, want->in4.sin_addr.s_addr);
    } else {
        cr_assert_eq(got->in6.sin6_port, want->in6.sin6_port);
        cr_assert_eq(memcmp(&got->in6.sin6_addr, &want->in6.sin6_addr, 16), 0);
    }
}

static void decode_built(struct stun_msg *msg, const uint8_t *buf, int n)
{
    cr_assert_gt(n, 0, "build failed: %d", n);
    cr_assert_eq(stun_msg_decode(msg, buf, (size_t)n), 0);
    cr_assert_eq((int)msg->len, n);
}

Test(stun_build, header)
{
    uint8_t buf[64];
    struct stun_builder b;
    struct stun_msg msg;

    stun_build_start(&b, buf, sizeof(buf), TURN_CHANNEL_BIND, STUN_ERROR, tid);
    cr_assert_eq(stun_build_finish(&b), STUN_HEADER_LEN);
    cr_assert_eq(memcmp(buf, "\x01\x19\x00\x00\x21\x12\xa4\x42", 8), 0);
    cr_assert_eq(memcmp(buf + 8, tid, STUN_TID_LEN), 0);
    decode_built(&msg, buf, STUN_HEADER_LEN);
    cr_assert_eq(msg.method, TURN_CHANNEL_BIND);
    cr_assert_eq(msg.cls, STUN_ERROR);
    for (uint16_t m = 0; m <= 0xFFF; m += 0x35) {
        for (uint8_t c = 0; c <= STUN_ERROR; c++) {
            stun_build_start(&b, buf, sizeof(buf), m, c, tid);
            decode_built(&msg, buf, stun_build_finish(&b));
            cr_assert_eq(msg.method, m);
            cr_assert_eq(msg.cls, c);
        }
    }
    stun_build_start(&b, buf, STUN_HEADER_LEN - 1, STUN_BINDING, STUN_REQUEST, tid);
    cr_assert_eq(stun_build_finish(&b), -ENOBUFS);
    stun_build_start(&b, NULL, 0, STUN_BINDING, STUN_REQUEST, tid);
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 1);
    cr_assert_eq(stun_build_finish(&b), -ENOBUFS);
}

Test(stun_build, attr_u32_channel_padding)
{
    uint8_t buf[128];
    struct stun_builder b;
    struct stun_msg msg;
    const struct stun_attr *a;
    uint32_t life = 0;
    uint16_t ch = 0;
    uint8_t proto = 0;
    int n;

    memset(buf, 0xEE, sizeof(buf));
    stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_REQUEST, tid);
    stun_build_attr(&b, STUN_ATTR_USERNAME, "alice", 5);
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 3600);
    stun_build_channel(&b, 0x4abc);
    stun_build_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, 17u << 24);
    stun_build_attr(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
    n = stun_build_finish(&b);
    cr_assert_eq(n, 20 + 12 + 8 + 8 + 8 + 4);
    cr_assert_eq(buf[3], n - 20);
    /* Padding after "alice" is zeros. */
    cr_assert_eq(memcmp(buf + 24, "alice\0\0\0", 8), 0);
    decode_built(&msg, buf, n);
    a = stun_msg_find(&msg, STUN_ATTR_USERNAME);
    cr_assert_not_null(a);
    cr_assert_eq(a->len, 5);
    cr_assert_eq(memcmp(stun_attr_value(&msg, a), "alice", 5), 0);
    cr_assert_eq(stun_msg_get_u32(&msg, STUN_ATTR_LIFETIME, &life), 0);
    cr_assert_eq(life, 3600);
    cr_assert_eq(stun_msg_get_channel(&msg, &ch), 0);
    cr_assert_eq(ch, 0x4abc);
    cr_assert_eq(stun_msg_get_transport(&msg, &proto), 0);
    cr_assert_eq(proto, 17);
    cr_assert_not_null(stun_msg_find(&msg, STUN_ATTR_DONT_FRAGMENT));
}

Test(stun_build, addresses_round_trip)
{
    static const char *const ips[] = {"192.0.2.1",
                                      "0.0.0.0",
                                      "255.255.255.255",
                                      "::1",
                                      "2001:db8:1234:5678:11:2233:4455:6677",
                                      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
    static const uint16_t ports[] = {0, 1, 3478, 32853, 65535};

    for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
        for (size_t j = 0; j < sizeof(ports) / sizeof(ports[0]); j++) {
            union turn_addr in = addr_of(ips[i], ports[j]);
            union turn_addr out;
            uint8_t buf[128];
            struct stun_builder b;
            struct stun_msg msg;

            stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_SUCCESS, tid);
            stun_build_xaddr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, &in);
            stun_build_xaddr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &in);
            stun_build_addr(&b, STUN_ATTR_ALTERNATE_SERVER, &in);
            stun_build_addr(&b, STUN_ATTR_MAPPED_ADDRESS, &in);
            decode_built(&msg, buf, stun_build_finish(&b));
            cr_assert_eq(stun_msg_get_xaddr(&msg, STUN_ATTR_XOR_RELAYED_ADDRESS, &out), 0);
            expect_addr_eq(&out, &in);
            cr_assert_eq(stun_msg_get_xaddr(&msg, STUN_ATTR_XOR_MAPPED_ADDRESS, &out), 0);
            expect_addr_eq(&out, &in);
            cr_assert_eq(stun_msg_get_addr(&msg, STUN_ATTR_ALTERNATE_SERVER, &out), 0);
            expect_addr_eq(&out, &in);
            cr_assert_eq(stun_msg_get_addr(&msg, STUN_ATTR_MAPPED_ADDRESS, &out), 0);
            expect_addr_eq(&out, &in);
        }
    }
}

/* CreatePermission with several peers: each XOR-PEER-ADDRESS reads back. */
Test(stun_build, repeated_peers)
{
    union turn_addr peers[3] = {addr_of("203.0.113.9", 5000), addr_of("2001:db8::9", 6000),
                                addr_of("198.51.100.1", 7000)};
    uint8_t buf[256];
    struct stun_builder b;
    struct stun_msg msg;
    unsigned seen = 0;

    stun_build_start(&b, buf, sizeof(buf), TURN_CREATE_PERMISSION, STUN_REQUEST, tid);
    for (int i = 0; i < 3; i++) {
        stun_build_xaddr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peers[i]);
    }
    decode_built(&msg, buf, stun_build_finish(&b));
    for (unsigned i = 0; i < msg.n_attrs; i++) {
        union turn_addr out;

        cr_assert_eq(msg.attrs[i].type, STUN_ATTR_XOR_PEER_ADDRESS);
        cr_assert_eq(stun_attr_get_xaddr(&msg, &msg.attrs[i], &out), 0);
        expect_addr_eq(&out, &peers[seen++]);
    }
    cr_assert_eq(seen, 3);
}

Test(stun_build, error_codes)
{
    static const int codes[] = {300, 400, 401, 403, 405, 420, 437, 438, 440, 441,
                                442, 443, 446, 447, 486, 500, 508, 599, 699};

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        uint8_t buf[128];
        struct stun_builder b;
        struct stun_msg msg;
        const char *reason = NULL;
        size_t reason_len = 0;
        int code = 0;

        stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_ERROR, tid);
        stun_build_error(&b, codes[i]);
        decode_built(&msg, buf, stun_build_finish(&b));
        cr_assert_eq(stun_msg_get_error(&msg, &code, &reason, &reason_len), 0);
        cr_assert_eq(code, codes[i]);
        cr_assert_eq(reason_len, strlen(stun_reason(codes[i])));
        cr_assert_eq(memcmp(reason, stun_reason(codes[i]), reason_len), 0);
    }
}

Test(stun_build, unknown_attributes)
{
    static const uint16_t types[] = {0x0030, 0x7fff, 0x0041};
    uint8_t buf[128];
    struct stun_builder b;
    struct stun_msg msg;
    const struct stun_attr *a;
    const uint8_t *v;

    stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_ERROR, tid);
    stun_build_error(&b, 420);
    stun_build_unknown(&b, types, 3);
    decode_built(&msg, buf, stun_build_finish(&b));
    a = stun_msg_find(&msg, STUN_ATTR_UNKNOWN_ATTRIBUTES);
    cr_assert_not_null(a);
    cr_assert_eq(a->len, 6);
    v = stun_attr_value(&msg, a);
    cr_assert_eq(memcmp(v, "\x00\x30\x7f\xff\x00\x41\x00\x00", 8), 0);
}

Test(stun_build, integrity_round_trip)
{
    static const uint16_t types[] = {STUN_ATTR_MESSAGE_INTEGRITY,
                                     STUN_ATTR_MESSAGE_INTEGRITY_SHA256};

    for (size_t t = 0; t < 2; t++) {
        for (int fp = 0; fp < 2; fp++) {
            uint8_t buf[256];
            struct stun_builder b;
            struct stun_msg msg;

            stun_build_start(&b, buf, sizeof(buf), TURN_REFRESH, STUN_REQUEST, tid);
            stun_build_attr(&b, STUN_ATTR_USERNAME, "1735689600:alice", 16);
            stun_build_attr(&b, STUN_ATTR_REALM, "example.org", 11);
            stun_build_u32(&b, STUN_ATTR_LIFETIME, 0);
            stun_build_integrity(&b, types[t], key, sizeof(key) - 1);
            if (fp) {
                stun_build_fingerprint(&b);
            }
            decode_built(&msg, buf, stun_build_finish(&b));
            cr_assert_eq(stun_msg_find(&msg, types[t])->len, t == 0 ? 20 : 32);
            cr_assert_eq(stun_msg_check_integrity(&msg, types[t], key, sizeof(key) - 1), 0);
            cr_assert_eq(stun_msg_check_integrity(&msg, types[t], key, sizeof(key) - 2), -EACCES);
            cr_assert_eq(stun_msg_check_integrity(&msg, types[1 - t], key, sizeof(key) - 1),
                         -ENOENT);
            cr_assert_eq(stun_msg_find(&msg, STUN_ATTR_FINGERPRINT) != NULL, fp == 1);
        }
    }
}

Test(stun_build, empty_key)
{
    uint8_t buf[64];
    struct stun_builder b;
    struct stun_msg msg;

    stun_build_start(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY, NULL, 0);
    decode_built(&msg, buf, stun_build_finish(&b));
    cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY, NULL, 0), 0);
    cr_assert_eq(
        stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY, (const uint8_t *)"x", 1),
        -EACCES);
}

/* A peer may send MESSAGE-INTEGRITY-SHA256 truncated to 16..28 bytes; the
 * MAC is computed here with OpenSSL directly, as that peer would. */
Test(stun_build, truncated_sha256_verifies)
{
    for (size_t mac_len = 16; mac_len <= 32; mac_len += 4) {
        uint8_t buf[128];
        uint8_t copy[128];
        uint8_t mac[32];
        unsigned int full = 0;
        struct stun_builder b;
        struct stun_msg msg;
        int n;

        stun_build_start(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
        stun_build_attr(&b, STUN_ATTR_USERNAME, "bob", 3);
        n = stun_build_finish(&b);
        memcpy(copy, buf, (size_t)n);
        copy[3] = (uint8_t)(n - 20 + 4 + mac_len);
        cr_assert_not_null(
            HMAC(EVP_sha256(), key, (int)sizeof(key) - 1, copy, (size_t)n, mac, &full));
        cr_assert_eq(full, 32);
        stun_build_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, mac, mac_len);
        stun_build_fingerprint(&b);
        n = stun_build_finish(&b);
        decode_built(&msg, buf, n);
        cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, key,
                                              sizeof(key) - 1),
                     0, "mac_len %zu", mac_len);
        buf[25] ^= 0x10; /* inside "bob": FINGERPRINT and MAC both break */
        cr_assert_eq(stun_msg_decode(&msg, buf, (size_t)n), -EBADMSG);
    }
}

/* Flipping any bit of a message built with MI then FINGERPRINT makes decoding
 * or the integrity check fail (or strips the FINGERPRINT by retyping it). */
Test(stun_build, tampering_detected)
{
    uint8_t buf[128];
    struct stun_builder b;
    int n;

    stun_build_start(&b, buf, sizeof(buf), TURN_ALLOCATE, STUN_REQUEST, tid);
    stun_build_attr(&b, STUN_ATTR_USERNAME, "carol", 5);
    stun_build_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, 17u << 24);
    stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, key, sizeof(key) - 1);
    stun_build_fingerprint(&b);
    n = stun_build_finish(&b);
    cr_assert_gt(n, 0);
    for (int i = 0; i < n * 8; i++) {
        uint8_t copy[128];
        struct stun_msg msg;
        int err;

        memcpy(copy, buf, (size_t)n);
        copy[i / 8] ^= (uint8_t)(1u << (i % 8));
        err = stun_msg_decode(&msg, copy, (size_t)n);
        if (err == 0) {
            err = stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, key,
                                           sizeof(key) - 1);
        }
        if (err == 0 && stun_msg_find(&msg, STUN_ATTR_FINGERPRINT) == NULL) {
            err = -ENOENT;
        }
        cr_assert_neq(err, 0, "bit %d", i);
    }
}

/* Build the same message into every smaller capacity: the result is either
 * the whole message or -ENOBUFS, and nothing is written past cap. */
static int build_full(uint8_t *buf, size_t cap)
{
    static const uint16_t unknown[] = {0x0033};
    union turn_addr v6 = addr_of("2001:db8::1", 40000);
    struct stun_builder b;

    stun_build_start(&b, buf, cap, TURN_ALLOCATE, STUN_ERROR, tid);
    stun_build_error(&b, 420);
    stun_build_unknown(&b, unknown, 1);
    stun_build_xaddr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &v6);
    stun_build_addr(&b, STUN_ATTR_RESPONSE_ORIGIN, &v6);
    stun_build_channel(&b, 0x4001);
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 600);
    stun_build_attr(&b, STUN_ATTR_SOFTWARE, "blindrelay", 10);
    stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY, key, sizeof(key) - 1);
    stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, key, sizeof(key) - 1);
    stun_build_fingerprint(&b);
    return stun_build_finish(&b);
}

Test(stun_build, never_past_cap)
{
    uint8_t ref[512];
    int full = build_full(ref, sizeof(ref));

    cr_assert_gt(full, 0);
    for (size_t cap = 0; cap <= (size_t)full; cap++) {
        uint8_t buf[512];
        int n;

        memset(buf, 0x5A, sizeof(buf));
        n = build_full(buf, cap);
        if (cap == (size_t)full) {
            cr_assert_eq(n, full);
            cr_assert_eq(memcmp(buf, ref, (size_t)full), 0);
        } else {
            cr_assert_eq(n, -ENOBUFS, "cap %zu", cap);
        }
        for (size_t i = cap; i < sizeof(buf); i++) {
            cr_assert_eq(buf[i], 0x5A, "cap %zu: byte %zu written", cap, i);
        }
    }
}

/* After an overflow, later (smaller) attributes are not written either. */
Test(stun_build, sticky_error)
{
    uint8_t buf[40];
    uint8_t big[64] = {0};
    struct stun_builder b;

    stun_build_start(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
    stun_build_attr(&b, STUN_ATTR_SOFTWARE, big, sizeof(big));
    stun_build_u32(&b, STUN_ATTR_LIFETIME, 1);
    cr_assert_eq(b.len, STUN_HEADER_LEN);
    cr_assert_eq(buf[3], 0);
    cr_assert_eq(stun_build_finish(&b), -ENOBUFS);
}

/* A value longer than the length field can carry, or a message larger than
 * the decoder takes (20 + 0xFFE8), is refused even with room to spare. */
Test(stun_build, length_field_limits)
{
    static uint8_t buf[STUN_HEADER_LEN + 0x20000];
    static uint8_t value[0x10000];
    struct stun_builder b;
    struct stun_msg msg;
    int n;

    stun_build_start(&b, buf, sizeof(buf), TURN_SEND, STUN_INDICATION, tid);
    stun_build_attr(&b, STUN_ATTR_DATA, value, 0x10000);
    cr_assert_eq(stun_build_finish(&b), -ENOBUFS);

    stun_build_start(&b, buf, sizeof(buf), TURN_SEND, STUN_INDICATION, tid);
    stun_build_attr(&b, STUN_ATTR_DATA, value, 0xFFE1);
    n = stun_build_finish(&b);
    cr_assert_eq(n, STUN_HEADER_LEN + 4 + 0xFFE4);
    decode_built(&msg, buf, n);
    cr_assert_eq(msg.attrs[0].len, 0xFFE1);
    stun_build_attr(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
    cr_assert_eq(stun_build_finish(&b), -ENOBUFS);
}
