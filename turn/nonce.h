/* Stateless nonces (RFC 8489 9.2): internal to turn/auth.c, not a public
 * module header. A nonce is an HMAC over a timestamp and the client's IP
 * under a per-process random key, so issuing one costs no memory. */
#ifndef TURN_NONCE_H
#define TURN_NONCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define TURN_NONCE_KEY_LEN 32
#define TURN_NONCE_LEN 29 /* characters: cookie 13, timestamp and MAC 16 */
#define TURN_NONCE_SKEW 2 /* seconds a timestamp may lie in the future */

/* Writes the nonce for client's IP (the port is ignored; IPv4-mapped IPv6
 * counts as IPv4) at time now into out, terminated. Returns its length, at
 * most TURN_NONCE_MAX, or 0 if OpenSSL failed. */
size_t turn_nonce_make(const uint8_t key[TURN_NONCE_KEY_LEN], const union turn_addr *client,
                       uint64_t now, char *out);

/* True when nonce[0..len) was made with key for client's IP, carries the
 * security-feature cookie, and is at most lifetime seconds old. */
bool turn_nonce_valid(const uint8_t key[TURN_NONCE_KEY_LEN], const uint8_t *nonce, size_t len,
                      const union turn_addr *client, uint64_t now, uint32_t lifetime);

#endif
