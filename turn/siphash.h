/* SipHash (Aumasson, Bernstein 2012, "SipHash: a fast short-input PRF"): a
 * keyed pseudorandom function of short inputs. SipHash-1-3 keys the hash
 * tables clients can fill (their output never leaves the process);
 * SipHash-2-4 with 128-bit output makes values clients do see. */
#ifndef TURN_SIPHASH_H
#define TURN_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define TURN_SIPHASH_KEY_LEN 16

/* A 128-bit key as the two little-endian words k0, k1 of the paper. */
struct turn_siphash_key {
    uint64_t k0, k1;
};

/* Sets the key from 16 bytes (the paper's byte order). */
void turn_siphash_key_set(struct turn_siphash_key *key, const uint8_t bytes[TURN_SIPHASH_KEY_LEN]);

/* Fills the key from the CSPRNG (OpenSSL RAND_bytes). Returns 0 or -EIO. */
int turn_siphash_key_random(struct turn_siphash_key *key);

/* Wipes the key. */
void turn_siphash_key_clear(struct turn_siphash_key *key);

/* SipHash-1-3 of len bytes. */
uint64_t turn_siphash13(const struct turn_siphash_key *key, const void *in, size_t len);

/* SipHash-2-4 of len bytes (64-bit output). */
uint64_t turn_siphash24(const struct turn_siphash_key *key, const void *in, size_t len);

/* SipHash-2-4 with 128-bit output of len bytes, written to out as the
 * reference implementation does. */
void turn_siphash24_128(const struct turn_siphash_key *key, const void *in, size_t len,
                        uint8_t out[16]);

/* ---- the short-input fast path, inline for the packet path ---- */

static inline uint64_t turn_siphash_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline void turn_siphash_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = turn_siphash_rotl(v[1], 13);
    v[1] ^= v[0];
    v[0] = turn_siphash_rotl(v[0], 32);
    v[2] += v[3];
    v[3] = turn_siphash_rotl(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = turn_siphash_rotl(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = turn_siphash_rotl(v[1], 17);
    v[1] ^= v[2];
    v[2] = turn_siphash_rotl(v[2], 32);
}

/* SipHash-1-3 of a message of len <= 7 bytes passed packed little-endian in
 * the low bytes of word (the higher bytes zero): the same value as
 * turn_siphash13 on those bytes, with no loop and no tail copy. */
static inline uint64_t turn_siphash13_short(const struct turn_siphash_key *key, uint64_t word,
                                            size_t len)
{
    uint64_t v[4] = {key->k0 ^ 0x736f6d6570736575ull, key->k1 ^ 0x646f72616e646f6dull,
                     key->k0 ^ 0x6c7967656e657261ull, key->k1 ^ 0x7465646279746573ull};
    uint64_t b = word | (uint64_t)len << 56;

    v[3] ^= b;
    turn_siphash_round(v);
    v[0] ^= b;
    v[2] ^= 0xff;
    turn_siphash_round(v);
    turn_siphash_round(v);
    turn_siphash_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

#endif
