/* SipHash-c-d, written from the paper (Aumasson, Bernstein 2012, section 2). */
#include "siphash.h"

#include <errno.h>
#include <stdbool.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

static uint64_t load_le64(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static void store_le64(uint8_t *p, uint64_t x)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(x >> (8 * i));
    }
}

void turn_siphash_key_set(struct turn_siphash_key *key, const uint8_t bytes[TURN_SIPHASH_KEY_LEN])
{
    key->k0 = load_le64(bytes);
    key->k1 = load_le64(bytes + 8);
}

int turn_siphash_key_random(struct turn_siphash_key *key)
{
    uint8_t bytes[TURN_SIPHASH_KEY_LEN];
    int err = 0;

    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        err = -EIO;
        goto out;
    }
    turn_siphash_key_set(key, bytes);
out:
    OPENSSL_cleanse(bytes, sizeof(bytes));
    return err;
}

void turn_siphash_key_clear(struct turn_siphash_key *key)
{
    OPENSSL_cleanse(key, sizeof(*key));
}

static void rounds(uint64_t v[4], int n)
{
    for (int i = 0; i < n; i++) {
        turn_siphash_round(v);
    }
}

/* Initialisation and compression: every message word, then the last word
 * carrying the remaining bytes and len mod 256 in its top byte. */
static void absorb(uint64_t v[4], const struct turn_siphash_key *key, const uint8_t *in, size_t len,
                   int c, bool wide)
{
    const uint8_t *end = in + (len & ~(size_t)7);
    uint64_t b = (uint64_t)len << 56;

    v[0] = key->k0 ^ 0x736f6d6570736575ull;
    v[1] = key->k1 ^ 0x646f72616e646f6dull;
    v[2] = key->k0 ^ 0x6c7967656e657261ull;
    v[3] = key->k1 ^ 0x7465646279746573ull;
    if (wide) {
        v[1] ^= 0xee;
    }
    for (; in != end; in += 8) {
        uint64_t m = load_le64(in);
        v[3] ^= m;
        rounds(v, c);
        v[0] ^= m;
    }
    for (size_t i = 0; i < (len & 7); i++) {
        b |= (uint64_t)in[i] << (8 * i);
    }
    v[3] ^= b;
    rounds(v, c);
    v[0] ^= b;
}

uint64_t turn_siphash13(const struct turn_siphash_key *key, const void *in, size_t len)
{
    uint64_t v[4];

    absorb(v, key, in, len, 1, false);
    v[2] ^= 0xff;
    rounds(v, 3);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t turn_siphash24(const struct turn_siphash_key *key, const void *in, size_t len)
{
    uint64_t v[4];

    absorb(v, key, in, len, 2, false);
    v[2] ^= 0xff;
    rounds(v, 4);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void turn_siphash24_128(const struct turn_siphash_key *key, const void *in, size_t len,
                        uint8_t out[16])
{
    uint64_t v[4];

    absorb(v, key, in, len, 2, true);
    v[2] ^= 0xee;
    rounds(v, 4);
    store_le64(out, v[0] ^ v[1] ^ v[2] ^ v[3]);
    v[1] ^= 0xdd;
    rounds(v, 4);
    store_le64(out + 8, v[0] ^ v[1] ^ v[2] ^ v[3]);
}
