/* Internals shared by the STUN codec files (stun_msg.c, stun_build.c,
 * stun_crypto.c): byte helpers, CRC-32 and the RFC 8489 14.5/14.6 HMAC.
 * Not for use outside the codec. */
#ifndef TURN_STUN_PRIV_H
#define TURN_STUN_PRIV_H

#include <stddef.h>
#include <stdint.h>

#define STUN_MI_LEN 20
#define STUN_MI256_MIN 16
#define STUN_MI256_MAX 32

static inline uint16_t stun_rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t stun_rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void stun_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void stun_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* CRC-32 (ISO-HDLC, as in zlib) of len bytes. */
uint32_t stun_crc32(const uint8_t *buf, size_t len);

/* HMAC-SHA1 (attr_type MESSAGE-INTEGRITY) or HMAC-SHA256 (otherwise) over
 * msg[0 .. upto) with the header length field replaced by hdr_len (RFC 8489
 * 14.5: the length as if the message ended after the integrity attribute).
 * msg must hold at least STUN_HEADER_LEN bytes and upto >= STUN_HEADER_LEN.
 * Writes the full MAC (20 or 32 bytes) into out. Returns 0 or -EIO. */
int stun_hmac(uint16_t attr_type, const uint8_t *key, size_t key_len, const uint8_t *msg,
              size_t upto, uint16_t hdr_len, uint8_t out[STUN_MI256_MAX]);

#endif
