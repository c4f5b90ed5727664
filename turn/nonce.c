/* Stateless nonces (RFC 8489 9.2, security feature set of 18.1):
 *
 *   "obMatJos2"  "gAAA"            base64url( ts | mac )
 *    cookie      feature set        ts:  4 bytes, big-endian seconds (to 2106)
 *                0x800000: bit 0    mac: HMAC-SHA256(key, ts | family | ip),
 *                password algs           first 8 bytes
 *
 * 13 + 16 = 29 characters (32 on the wire with padding): short, because
 * it is in the one answer a forged Allocate draws (the 401), which must
 * stay within 4x of the request. A forger must guess 64 bits of MAC per
 * try, online. The port is left out of the MAC: a client behind a NAT that
 * rebinds keeps its nonce; a client at another IP does not. */
#include "nonce.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "auth.h"

#define NONCE_COOKIE "obMatJos2gAAA"
#define NONCE_COOKIE_LEN 13
#define NONCE_TS_LEN 4
#define NONCE_MAC_LEN 8
#define NONCE_RAW_LEN (NONCE_TS_LEN + NONCE_MAC_LEN) /* 12 bytes: 16 base64 chars, no padding */
#define NONCE_B64_LEN 16
#define NONCE_LEN (NONCE_COOKIE_LEN + NONCE_B64_LEN)

_Static_assert(NONCE_LEN == TURN_NONCE_LEN, "TURN_NONCE_LEN is not the nonce's length");
_Static_assert(NONCE_LEN <= TURN_NONCE_MAX, "nonce longer than TURN_NONCE_MAX");
_Static_assert(NONCE_RAW_LEN % 3 == 0, "base64 of the nonce must need no padding");

static bool nonce_mac(const uint8_t key[TURN_NONCE_KEY_LEN], const union turn_addr *client,
                      const uint8_t ts[NONCE_TS_LEN], uint8_t mac[NONCE_MAC_LEN])
{
    union turn_addr a = *client;
    uint8_t in[NONCE_TS_LEN + 1 + 16];
    uint8_t full[EVP_MAX_MD_SIZE];
    unsigned full_len = 0;
    size_t n = NONCE_TS_LEN;

    turn_addr_canonical(&a);
    memcpy(in, ts, NONCE_TS_LEN);
    if (a.sa.sa_family == AF_INET6) {
        in[n++] = 6;
        memcpy(in + n, a.in6.sin6_addr.s6_addr, 16);
        n += 16;
    } else if (a.sa.sa_family == AF_INET) {
        in[n++] = 4;
        memcpy(in + n, &a.in4.sin_addr.s_addr, 4);
        n += 4;
    } else {
        in[n++] = 0;
    }
    if (!HMAC(EVP_sha256(), key, TURN_NONCE_KEY_LEN, in, n, full, &full_len) ||
        full_len < NONCE_MAC_LEN) {
        return false;
    }
    memcpy(mac, full, NONCE_MAC_LEN);
    return true;
}

size_t turn_nonce_make(const uint8_t key[TURN_NONCE_KEY_LEN], const union turn_addr *client,
                       uint64_t now, char *out)
{
    uint8_t raw[NONCE_RAW_LEN];
    unsigned char b64[NONCE_B64_LEN + 1];

    /* seconds since 1970 fit 32 bits until 2106 */
    for (int i = 0; i < NONCE_TS_LEN; i++) {
        raw[i] = (uint8_t)(now >> (8 * (NONCE_TS_LEN - 1 - i)));
    }
    if (!nonce_mac(key, client, raw, raw + NONCE_TS_LEN)) {
        out[0] = '\0';
        return 0;
    }
    EVP_EncodeBlock(b64, raw, NONCE_RAW_LEN);
    memcpy(out, NONCE_COOKIE, NONCE_COOKIE_LEN);
    for (int i = 0; i < NONCE_B64_LEN; i++) {
        char c = (char)b64[i];
        out[NONCE_COOKIE_LEN + i] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[NONCE_LEN] = '\0';
    return NONCE_LEN;
}

/* Decodes the base64url part; false on any character outside the alphabet. */
static bool nonce_decode(const uint8_t *text, uint8_t raw[NONCE_RAW_LEN])
{
    unsigned char b64[NONCE_B64_LEN + 1];
    uint8_t out[NONCE_RAW_LEN + 3];

    for (int i = 0; i < NONCE_B64_LEN; i++) {
        uint8_t c = text[i];
        bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '_') {
            return false;
        }
        b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    b64[NONCE_B64_LEN] = '\0';
    if (EVP_DecodeBlock(out, b64, NONCE_B64_LEN) != NONCE_RAW_LEN) {
        return false;
    }
    memcpy(raw, out, NONCE_RAW_LEN);
    return true;
}

bool turn_nonce_valid(const uint8_t key[TURN_NONCE_KEY_LEN], const uint8_t *nonce, size_t len,
                      const union turn_addr *client, uint64_t now, uint32_t lifetime)
{
    uint8_t raw[NONCE_RAW_LEN];
    uint8_t mac[NONCE_MAC_LEN];
    uint64_t ts = 0;

    if (len != NONCE_LEN || memcmp(nonce, NONCE_COOKIE, NONCE_COOKIE_LEN) != 0) {
        return false;
    }
    if (!nonce_decode(nonce + NONCE_COOKIE_LEN, raw)) {
        return false;
    }
    if (!nonce_mac(key, client, raw, mac) ||
        CRYPTO_memcmp(mac, raw + NONCE_TS_LEN, NONCE_MAC_LEN) != 0) {
        return false;
    }
    for (int i = 0; i < NONCE_TS_LEN; i++) {
        ts = (ts << 8) | raw[i];
    }
    if (ts > now) {
        return ts - now <= TURN_NONCE_SKEW;
    }
    return now - ts <= lifetime;
}
