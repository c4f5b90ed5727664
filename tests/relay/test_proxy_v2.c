/* Tests for relay/proxy_v2: PROXY protocol v2 headers over IPv4 and IPv6,
 * LOCAL, TLVs skipped and checked, every truncation answered with the
 * bytes still needed and never read past, every wrong byte refused, the
 * length bound, and the trusted-proxy list. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proxy_v2.h"

static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* Writes a header: sig, ver_cmd, fam, then body (blen bytes). Returns its length. */
static size_t header(uint8_t *buf, uint8_t ver_cmd, uint8_t fam, const uint8_t *body, size_t blen)
{
    memcpy(buf, sig, 12);
    buf[12] = ver_cmd;
    buf[13] = fam;
    buf[14] = (uint8_t)(blen >> 8);
    buf[15] = (uint8_t)blen;
    if (blen) {
        memcpy(buf + 16, body, blen);
    }
    return 16 + blen;
}

/* 192.0.2.7:40001 -> 198.51.100.9:443 */
static const uint8_t v4_body[12] = {192, 0, 2, 7, 198, 51, 100, 9, 0x9C, 0x41, 0x01, 0xBB};

static size_t v4_header(uint8_t *buf)
{
    return header(buf, 0x21, 0x11, v4_body, sizeof(v4_body));
}

/* Parses buf[0..len) from a heap copy of exactly len bytes, so that ASan
 * catches any read past what the parser was given. */
static int parse_exact(const uint8_t *buf, size_t len, struct proxy_v2_header *h, size_t *hlen)
{
    uint8_t *copy = malloc(len ? len : 1);
    int rc;

    cr_assert_not_null(copy);
    memcpy(copy, buf, len);
    rc = proxy_v2_parse(copy, len, h, hlen);
    free(copy);
    return rc;
}

Test(proxy_v2, ipv4)
{
    uint8_t buf[64];
    size_t n = v4_header(buf), hlen = 0;
    struct proxy_v2_header h;
    union turn_addr want;

    cr_assert_eq(parse_exact(buf, n, &h, &hlen), 0);
    cr_assert_eq(hlen, 28);
    cr_assert_not(h.local);
    cr_assert_eq(turn_addr_parse(&want, "192.0.2.7:40001", 0), 0);
    cr_assert(turn_addr_equal(&h.src, &want));
    cr_assert_eq(turn_addr_parse(&want, "198.51.100.9:443", 0), 0);
    cr_assert(turn_addr_equal(&h.dst, &want));
}

Test(proxy_v2, bytes_after_the_header_are_not_its)
{
    uint8_t buf[64];
    size_t n = v4_header(buf), hlen = 0;
    struct proxy_v2_header h;

    memset(buf + n, 0x16, 20); /* a TLS ClientHello begins */
    cr_assert_eq(parse_exact(buf, n + 20, &h, &hlen), 0);
    cr_assert_eq(hlen, n);
}

Test(proxy_v2, ipv6)
{
    uint8_t body[36] = {0}, buf[64];
    size_t n, hlen = 0;
    struct proxy_v2_header h;
    union turn_addr want;

    body[0] = 0x20, body[1] = 0x01, body[2] = 0x0d, body[3] = 0xb8, body[15] = 0x05;
    body[16] = 0x20, body[17] = 0x01, body[18] = 0x0d, body[19] = 0xb8, body[31] = 0x01;
    body[32] = 0xC3, body[33] = 0x50, body[34] = 0x01, body[35] = 0xBB;
    n = header(buf, 0x21, 0x21, body, sizeof(body));
    cr_assert_eq(parse_exact(buf, n, &h, &hlen), 0);
    cr_assert_eq(hlen, 52);
    cr_assert_eq(turn_addr_parse(&want, "[2001:db8::5]:50000", 0), 0);
    cr_assert(turn_addr_equal(&h.src, &want));
    cr_assert_eq(turn_addr_parse(&want, "[2001:db8::1]:443", 0), 0);
    cr_assert(turn_addr_equal(&h.dst, &want));
}

Test(proxy_v2, local_ignores_the_family)
{
    uint8_t buf[64];
    const uint8_t junk[5] = {1, 2, 3, 4, 5};
    size_t n, hlen = 0;
    struct proxy_v2_header h;

    n = header(buf, 0x20, 0x00, NULL, 0);
    cr_assert_eq(parse_exact(buf, n, &h, &hlen), 0);
    cr_assert_eq(hlen, 16);
    cr_assert(h.local);
    /* the receiver must accept LOCAL whatever the family and skip the block */
    n = header(buf, 0x20, 0x31, junk, sizeof(junk));
    cr_assert_eq(parse_exact(buf, n, &h, &hlen), 0);
    cr_assert_eq(hlen, 21);
    cr_assert(h.local);
}

Test(proxy_v2, truncated_at_every_length)
{
    uint8_t buf[128], tlv[3 + 4] = {0x04, 0x00, 0x04, 0, 0, 0, 0};
    uint8_t body[sizeof(v4_body) + sizeof(tlv)];
    size_t n, hlen;
    struct proxy_v2_header h;

    memcpy(body, v4_body, sizeof(v4_body));
    memcpy(body + sizeof(v4_body), tlv, sizeof(tlv));
    n = header(buf, 0x21, 0x11, body, sizeof(body));
    for (size_t len = 0; len < n; len++) {
        hlen = 0;
        cr_assert_eq(parse_exact(buf, len, &h, &hlen), -EAGAIN, "at %zu", len);
        cr_assert_eq(hlen, len < 16 ? 16 : n, "at %zu", len);
        cr_assert_gt(hlen, len);
    }
    cr_assert_eq(parse_exact(buf, n, &h, &hlen), 0);
    cr_assert_eq(hlen, n);
}

Test(proxy_v2, wrong_signature_refused_at_its_first_wrong_byte)
{
    uint8_t buf[64];
    size_t n = v4_header(buf), hlen;
    struct proxy_v2_header h;

    for (size_t i = 0; i < 12; i++) {
        buf[i] ^= 0x40;
        cr_assert_eq(parse_exact(buf, i + 1, &h, &hlen), -EINVAL, "byte %zu", i);
        cr_assert_eq(parse_exact(buf, n, &h, &hlen), -EINVAL, "byte %zu", i);
        buf[i] ^= 0x40;
    }
    /* PROXY protocol v1, a STUN request, a TLS ClientHello */
    cr_assert_eq(parse_exact((const uint8_t *)"PROXY TCP4 ", 11, &h, &hlen), -EINVAL);
    cr_assert_eq(parse_exact((const uint8_t *)"\x00\x01\x00\x00", 4, &h, &hlen), -EINVAL);
    cr_assert_eq(parse_exact((const uint8_t *)"\x16\x03\x01", 3, &h, &hlen), -EINVAL);
}

Test(proxy_v2, wrong_version_or_command)
{
    uint8_t buf[64];
    const uint8_t bad[] = {0x11, 0x31, 0x01, 0x22, 0x2F, 0x00, 0xFF};
    size_t n = v4_header(buf), hlen;
    struct proxy_v2_header h;

    for (size_t i = 0; i < sizeof(bad); i++) {
        buf[12] = bad[i];
        cr_assert_eq(parse_exact(buf, 13, &h, &hlen), -EINVAL, "0x%02x", bad[i]);
        cr_assert_eq(parse_exact(buf, n, &h, &hlen), -EINVAL, "0x%02x", bad[i]);
    }
}

Test(proxy_v2, unsupported_family_or_protocol)
{
    uint8_t buf[256], body[216] = {0};
    /* UNSPEC, TCP/UNIX, UDP/IPv4, UDP/IPv6, UNSPEC/IPv4, bad family, bad protocol */
    const uint8_t bad[] = {0x00, 0x31, 0x12, 0x22, 0x10, 0x41, 0x13};
    size_t n, hlen;
    struct proxy_v2_header h;

    for (size_t i = 0; i < sizeof(bad); i++) {
        n = header(buf, 0x21, bad[i], body, sizeof(body));
        cr_assert_eq(parse_exact(buf, 14, &h, &hlen), -EINVAL, "0x%02x", bad[i]);
        cr_assert_eq(parse_exact(buf, n, &h, &hlen), -EINVAL, "0x%02x", bad[i]);
    }
}

Test(proxy_v2, address_block_longer_than_the_header)
{
    uint8_t buf[64];
    size_t n, hlen;
    struct proxy_v2_header h;

    n = header(buf, 0x21, 0x11, v4_body, 11);
    cr_assert_eq(parse_exact(buf, 16, &h, &hlen), -EINVAL);
    cr_assert_eq(parse_exact(buf, n, &h, &hlen), -EINVAL);
    n = header(buf, 0x21, 0x21, v4_body, 12); /* IPv6 needs 36 */
    cr_assert_eq(parse_exact(buf, n, &h, &hlen), -EINVAL);
}

Test(proxy_v2, length_over_the_bound)
{
    uint8_t buf[16];
    size_t hlen;
    struct proxy_v2_header h;

    header(buf, 0x21, 0x11, NULL, 0);
    buf[14] = (PROXY_V2_MAX_LEN - 16 + 1) >> 8;
    buf[15] = (uint8_t)(PROXY_V2_MAX_LEN - 16 + 1);
    /* refused from the fixed part: the rest is never waited for */
    cr_assert_eq(parse_exact(buf, 16, &h, &hlen), -EMSGSIZE);
    buf[14] = buf[15] = 0xFF;
    cr_assert_eq(parse_exact(buf, 16, &h, &hlen), -EMSGSIZE);
    buf[12] = 0x20; /* LOCAL too */
    cr_assert_eq(parse_exact(buf, 16, &h, &hlen), -EMSGSIZE);
    /* the bound itself is accepted */
    buf[12] = 0x21;
    buf[14] = (PROXY_V2_MAX_LEN - 16) >> 8;
    buf[15] = (uint8_t)(PROXY_V2_MAX_LEN - 16);
    cr_assert_eq(parse_exact(buf, 16, &h, &hlen), -EAGAIN);
    cr_assert_eq(hlen, PROXY_V2_MAX_LEN);
}

/* A header whose TLVs (after the IPv4 block) are tlv[0..tlen). */
static int parse_with_tlvs(const uint8_t *tlv, size_t tlen, size_t *hlen)
{
    uint8_t body[PROXY_V2_MAX_LEN], buf[PROXY_V2_MAX_LEN + 16];
    struct proxy_v2_header h;
    size_t n;

    memcpy(body, v4_body, sizeof(v4_body));
    memcpy(body + sizeof(v4_body), tlv, tlen);
    n = header(buf, 0x21, 0x11, body, sizeof(v4_body) + tlen);
    return parse_exact(buf, n, &h, hlen);
}

Test(proxy_v2, tlvs_skipped_when_they_fill_the_header)
{
    /* ALPN "h2", NOOP of 0, AWS's 0xEA with a VPC endpoint id */
    uint8_t tlvs[] = {0x01, 0x00, 0x02, 'h',  '2', 0x04, 0x00, 0x00,
                      0xEA, 0x00, 0x05, 0x01, 'v', 'p',  'c',  'e'};
    uint8_t big[PROXY_V2_MAX_LEN - 16 - 12] = {0x04};
    size_t hlen;

    cr_assert_eq(parse_with_tlvs(tlvs, sizeof(tlvs), &hlen), 0);
    cr_assert_eq(hlen, 16 + 12 + sizeof(tlvs));
    /* one NOOP TLV up to the bound */
    big[1] = (uint8_t)((sizeof(big) - 3) >> 8);
    big[2] = (uint8_t)(sizeof(big) - 3);
    cr_assert_eq(parse_with_tlvs(big, sizeof(big), &hlen), 0);
    cr_assert_eq(hlen, PROXY_V2_MAX_LEN);
}

Test(proxy_v2, tlvs_that_do_not_fill_the_header)
{
    const uint8_t over[] = {0x01, 0x00, 0x05, 'h', '2'}; /* value past the end */
    const uint8_t short_hdr[] = {0x01, 0x00, 0x00, 0x04, 0x00};
    const uint8_t one_byte[] = {0x04};
    size_t hlen;

    cr_assert_eq(parse_with_tlvs(over, sizeof(over), &hlen), -EINVAL);
    cr_assert_eq(parse_with_tlvs(short_hdr, sizeof(short_hdr), &hlen), -EINVAL);
    cr_assert_eq(parse_with_tlvs(one_byte, sizeof(one_byte), &hlen), -EINVAL);
}

static union turn_addr addr(const char *text)
{
    union turn_addr a;
    cr_assert_eq(turn_addr_parse(&a, text, 1), 0, "%s", text);
    return a;
}

Test(proxy_v2, trust_list)
{
    struct proxy_v2_trust t = {0};
    union turn_addr a;

    a = addr("127.0.0.1:5");
    cr_assert_not(proxy_v2_trusted(&t, &a), "an empty list trusts nobody");
    cr_assert_eq(proxy_v2_trust_add(&t, "127.0.0.1"), 0);
    cr_assert_eq(proxy_v2_trust_add(&t, "10.1.0.0/16"), 0);
    cr_assert_eq(proxy_v2_trust_add(&t, "2001:db8::/32"), 0);
    cr_assert(proxy_v2_trusted(&t, &a));
    a = addr("127.0.0.5:5");
    cr_assert_not(proxy_v2_trusted(&t, &a));
    a = addr("10.1.255.3:9");
    cr_assert(proxy_v2_trusted(&t, &a));
    a = addr("10.2.0.1:9");
    cr_assert_not(proxy_v2_trusted(&t, &a));
    a = addr("[2001:db8:ffff::1]:9");
    cr_assert(proxy_v2_trusted(&t, &a));
    a = addr("[2001:db9::1]:9");
    cr_assert_not(proxy_v2_trusted(&t, &a));
    a = addr("[::ffff:127.0.0.1]:9"); /* a dual-stack listener's view of IPv4 */
    cr_assert(proxy_v2_trusted(&t, &a));
    a = addr("[::1]:9");
    cr_assert_not(proxy_v2_trusted(&t, &a));
}

Test(proxy_v2, trust_list_refuses_bad_text_and_overflow)
{
    struct proxy_v2_trust t = {0};
    const char *bad[] = {"",           "/8",          "10.0.0.0/",   "10.0.0.0/33",
                         "::/129",     "10.0.0.0/8x", "10.0.0.0/-1", "host",
                         "10.0.0.0/ 8"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(proxy_v2_trust_add(&t, bad[i]), -EINVAL, "'%s'", bad[i]);
    }
    cr_assert_eq(t.n, 0);
    for (size_t i = 0; i < PROXY_V2_MAX_TRUSTED; i++) {
        cr_assert_eq(proxy_v2_trust_add(&t, "0.0.0.0/0"), 0);
    }
    cr_assert_eq(proxy_v2_trust_add(&t, "0.0.0.0/0"), -ENOSPC);
}
