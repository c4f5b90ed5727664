/* The STUN test vectors of RFC 5769, decoded, checked and rebuilt. */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "turn/stun_msg.h"

/* 2.1 Sample Request: SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME
 * (padded with spaces), MESSAGE-INTEGRITY, FINGERPRINT. */
static const uint8_t req[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* 2.2 Sample IPv4 Response: SOFTWARE, XOR-MAPPED-ADDRESS, MI, FINGERPRINT. */
static const uint8_t resp4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* 2.3 Sample IPv6 Response. */
static const uint8_t resp6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

/* 2.4 Sample Request with Long-Term Authentication: USERNAME, NONCE, REALM,
 * MESSAGE-INTEGRITY; no FINGERPRINT. */
static const uint8_t req_ltc[] = {
    0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
    0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88,
    0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00,
    0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
    0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73,
    0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72,
    0x67, 0x00, 0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02,
    0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
};

static const uint8_t tid_short[STUN_TID_LEN] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                                0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};
static const uint8_t tid_ltc[STUN_TID_LEN] = {0x78, 0xad, 0x34, 0x33, 0xc6, 0xad,
                                              0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e};
static const char password[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const char username_ltc[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83"
                                   "\xe3\x82\xaf\xe3\x82\xb9"; /* マトリックス */
static const char nonce_ltc[] = "f//499k954d6OL34oL9FSTvy64sA";
static const char realm_ltc[] = "example.org";

static void expect_text(const struct stun_msg *msg, uint16_t type, const char *text)
{
    const struct stun_attr *attr = stun_msg_find(msg, type);

    cr_assert_not_null(attr, "attribute 0x%04x missing", type);
    cr_assert_eq(attr->len, strlen(text));
    cr_assert_eq(memcmp(stun_attr_value(msg, attr), text, attr->len), 0);
}

static void expect_short_term(const uint8_t *buf, size_t len)
{
    struct stun_msg msg;

    cr_assert_eq(stun_msg_decode(&msg, buf, len), 0);
    cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY,
                                          (const uint8_t *)password, strlen(password)),
                 0);
    cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY,
                                          (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBT", 22),
                 -EACCES);
    cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY_SHA256,
                                          (const uint8_t *)password, strlen(password)),
                 -ENOENT);
    cr_assert_not_null(stun_msg_find(&msg, STUN_ATTR_FINGERPRINT));
}

/* MD5(username ":" realm ":" password), RFC 8489 9.2.2. */
static void long_term_key(uint8_t key[16], const char *password_ltc)
{
    char text[128];
    unsigned int key_len = 0;
    int n = snprintf(text, sizeof(text), "%s:%s:%s", username_ltc, realm_ltc, password_ltc);

    cr_assert(n > 0 && (size_t)n < sizeof(text));
    cr_assert_eq(EVP_Digest(text, (size_t)n, key, &key_len, EVP_md5(), NULL), 1);
    cr_assert_eq(key_len, 16);
}

Test(rfc5769, sample_request)
{
    struct stun_msg msg;
    const struct stun_attr *attr;
    uint32_t priority = 0;
    static const uint8_t controlled[8] = {0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36};

    expect_short_term(req, sizeof(req));
    cr_assert_eq(stun_msg_decode(&msg, req, sizeof(req)), 0);
    cr_assert_eq(msg.len, sizeof(req));
    cr_assert_eq(msg.method, STUN_BINDING);
    cr_assert_eq(msg.cls, STUN_REQUEST);
    cr_assert_eq(memcmp(msg.tid, tid_short, STUN_TID_LEN), 0);
    cr_assert_eq(msg.n_unknown, 0);
    expect_text(&msg, STUN_ATTR_SOFTWARE, "STUN test client");
    expect_text(&msg, STUN_ATTR_USERNAME, "evtj:h6vY");
    cr_assert_eq(stun_msg_get_u32(&msg, STUN_ATTR_PRIORITY, &priority), 0);
    cr_assert_eq(priority, 0x6e0001ff);
    attr = stun_msg_find(&msg, STUN_ATTR_ICE_CONTROLLED);
    cr_assert_not_null(attr);
    cr_assert_eq(memcmp(stun_attr_value(&msg, attr), controlled, 8), 0);
}

Test(rfc5769, ipv4_response)
{
    struct stun_msg msg;
    union turn_addr addr;

    expect_short_term(resp4, sizeof(resp4));
    cr_assert_eq(stun_msg_decode(&msg, resp4, sizeof(resp4)), 0);
    cr_assert_eq(msg.method, STUN_BINDING);
    cr_assert_eq(msg.cls, STUN_SUCCESS);
    expect_text(&msg, STUN_ATTR_SOFTWARE, "test vector");
    cr_assert_eq(stun_msg_get_xaddr(&msg, STUN_ATTR_XOR_MAPPED_ADDRESS, &addr), 0);
    cr_assert_eq(addr.sa.sa_family, AF_INET);
    cr_assert_eq(ntohs(addr.in4.sin_port), 32853);
    cr_assert_eq(ntohl(addr.in4.sin_addr.s_addr), 0xc0000201u); /* 192.0.2.1 */
}

Test(rfc5769, ipv6_response)
{
    static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                                     0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
    struct stun_msg msg;
    union turn_addr addr;

    expect_short_term(resp6, sizeof(resp6));
    cr_assert_eq(stun_msg_decode(&msg, resp6, sizeof(resp6)), 0);
    cr_assert_eq(msg.cls, STUN_SUCCESS);
    cr_assert_eq(stun_msg_get_xaddr(&msg, STUN_ATTR_XOR_MAPPED_ADDRESS, &addr), 0);
    cr_assert_eq(addr.sa.sa_family, AF_INET6);
    cr_assert_eq(ntohs(addr.in6.sin6_port), 32853);
    cr_assert_eq(memcmp(&addr.in6.sin6_addr, want, 16), 0);
}

Test(rfc5769, long_term_request)
{
    struct stun_msg msg;
    uint8_t key[16];
    uint8_t wrong[16];

    long_term_key(key, "TheMatrIX");
    long_term_key(wrong, "TheMatrix");
    cr_assert_eq(stun_msg_decode(&msg, req_ltc, sizeof(req_ltc)), 0);
    cr_assert_eq(msg.method, STUN_BINDING);
    cr_assert_eq(msg.cls, STUN_REQUEST);
    cr_assert_eq(memcmp(msg.tid, tid_ltc, STUN_TID_LEN), 0);
    expect_text(&msg, STUN_ATTR_USERNAME, username_ltc);
    expect_text(&msg, STUN_ATTR_NONCE, nonce_ltc);
    expect_text(&msg, STUN_ATTR_REALM, realm_ltc);
    cr_assert_null(stun_msg_find(&msg, STUN_ATTR_FINGERPRINT));
    cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY, key, 16), 0);
    cr_assert_eq(stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY, wrong, 16), -EACCES);
}

/* The builder reproduces 2.4 byte for byte (its padding is zeros; the other
 * vectors pad with spaces, which a builder need not imitate). */
Test(rfc5769, long_term_request_rebuilt)
{
    uint8_t buf[256];
    uint8_t key[16];
    struct stun_builder b;

    long_term_key(key, "TheMatrIX");
    stun_build_start(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid_ltc);
    stun_build_attr(&b, STUN_ATTR_USERNAME, username_ltc, strlen(username_ltc));
    stun_build_attr(&b, STUN_ATTR_NONCE, nonce_ltc, strlen(nonce_ltc));
    stun_build_attr(&b, STUN_ATTR_REALM, realm_ltc, strlen(realm_ltc));
    stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY, key, sizeof(key));
    cr_assert_eq(stun_build_finish(&b), (int)sizeof(req_ltc));
    cr_assert_eq(memcmp(buf, req_ltc, sizeof(req_ltc)), 0);
}

/* 2.2 rebuilt with a 12-byte SOFTWARE that carries the vector's padding as
 * value: same bytes but for the SOFTWARE length, so only MI/FP differ. The
 * IPv4 and IPv6 XOR-MAPPED-ADDRESS values must match exactly. */
Test(rfc5769, xor_mapped_address_rebuilt)
{
    static const struct {
        const uint8_t *vec;
        size_t attr_off;
        const char *ip;
    } cases[] = {
        {resp4, 36, "192.0.2.1"},
        {resp6, 36, "2001:db8:1234:5678:11:2233:4455:6677"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[128];
        struct stun_builder b;
        union turn_addr addr = {0};
        size_t n;

        if (strchr(cases[i].ip, ':')) {
            addr.in6.sin6_family = AF_INET6;
            addr.in6.sin6_port = htons(32853);
            cr_assert_eq(inet_pton(AF_INET6, cases[i].ip, &addr.in6.sin6_addr), 1);
            n = 24;
        } else {
            addr.in4.sin_family = AF_INET;
            addr.in4.sin_port = htons(32853);
            cr_assert_eq(inet_pton(AF_INET, cases[i].ip, &addr.in4.sin_addr), 1);
            n = 12;
        }
        stun_build_start(&b, buf, sizeof(buf), STUN_BINDING, STUN_SUCCESS, tid_short);
        stun_build_xaddr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &addr);
        cr_assert_eq(stun_build_finish(&b), (int)(STUN_HEADER_LEN + n));
        cr_assert_eq(memcmp(buf + STUN_HEADER_LEN, cases[i].vec + cases[i].attr_off, n), 0);
    }
}

/* The whole of 2.1 arriving in pieces on a stream, then two messages back to
 * back: each prefix asks for more, each message ends where it should. */
Test(rfc5769, stream_reassembly)
{
    uint8_t two[sizeof(req) + sizeof(resp4)];
    struct stun_msg msg;

    for (size_t n = 0; n < sizeof(req); n++) {
        cr_assert_eq(stun_msg_decode(&msg, req, n), -EAGAIN, "prefix %zu", n);
    }
    memcpy(two, req, sizeof(req));
    memcpy(two + sizeof(req), resp4, sizeof(resp4));
    cr_assert_eq(stun_msg_decode(&msg, two, sizeof(two)), 0);
    cr_assert_eq(msg.len, sizeof(req));
    cr_assert_eq(stun_msg_decode(&msg, two + msg.len, sizeof(two) - sizeof(req)), 0);
    cr_assert_eq(msg.len, sizeof(resp4));
    cr_assert_eq(msg.cls, STUN_SUCCESS);
}

/* Decodes and checks the MI; 0 only if the message passes both and still
 * carries the FINGERPRINT when want_fp. */
static int verify(const uint8_t *buf, size_t len, const uint8_t *key, size_t key_len, bool want_fp)
{
    struct stun_msg msg;
    int err = stun_msg_decode(&msg, buf, len);

    if (err == 0) {
        err = stun_msg_check_integrity(&msg, STUN_ATTR_MESSAGE_INTEGRITY, key, key_len);
    }
    if (err == 0 && want_fp && stun_msg_find(&msg, STUN_ATTR_FINGERPRINT) == NULL) {
        err = -ENOENT;
    }
    return err;
}

/* Any single flipped bit breaks the FINGERPRINT or MESSAGE-INTEGRITY of 2.1
 * (or turns the FINGERPRINT into an ignored attribute), and the
 * MESSAGE-INTEGRITY of 2.4 (which has no FINGERPRINT). */
Test(rfc5769, tampering_detected)
{
    uint8_t key[16];

    long_term_key(key, "TheMatrIX");
    cr_assert_eq(verify(req, sizeof(req), (const uint8_t *)password, strlen(password), true), 0);
    cr_assert_eq(verify(req_ltc, sizeof(req_ltc), key, 16, false), 0);
    for (size_t i = 0; i < sizeof(req) * 8; i++) {
        uint8_t copy[sizeof(req)];

        memcpy(copy, req, sizeof(req));
        copy[i / 8] ^= (uint8_t)(1u << (i % 8));
        cr_assert_neq(verify(copy, sizeof(copy), (const uint8_t *)password, strlen(password), true),
                      0, "bit %zu", i);
    }
    for (size_t i = 0; i < sizeof(req_ltc) * 8; i++) {
        uint8_t copy[sizeof(req_ltc)];

        memcpy(copy, req_ltc, sizeof(req_ltc));
        copy[i / 8] ^= (uint8_t)(1u << (i % 8));
        cr_assert_neq(verify(copy, sizeof(copy), key, 16, false), 0, "bit %zu", i);
    }
}
