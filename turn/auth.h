/* Long-term credentials (RFC 8489 9.2): static users, TURN REST API
 * credentials from shared secrets, stateless nonces, password algorithms. */
#ifndef TURN_AUTH_H
#define TURN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "stun_msg.h"

#define TURN_AUTH_MAX_KEY 32 /* SHA-256 key; MD5 keys are 16 */
#define TURN_NONCE_MAX 64    /* characters, without terminator */
/* Longest realm: a 401 to a 28-byte Allocate stays within 4x (see
 * turn_auth_challenge_len). */
#define TURN_REALM_MAX 32

struct turn_auth;

struct turn_auth_config {
    const char *realm;
    const char *const *secrets; /* TURN REST shared secrets; all accepted */
    size_t n_secrets;
    const char *const *users; /* "name:password" */
    size_t n_users;
    uint32_t nonce_lifetime; /* seconds a nonce stays fresh; 0: 600 */
    /* set on a reload: take this object's nonce key, so that nonces
     * already handed out stay valid; NULL: a fresh random key */
    const struct turn_auth *nonces_of;
};

struct turn_auth;

/* Copies everything it needs from cfg. Returns 0, -EINVAL (a user entry
 * without ':' or with an empty name, an empty secret, an empty realm or one
 * longer than TURN_REALM_MAX) or -ENOMEM. The nonce key is random (CSPRNG),
 * so nonces are valid only on the instance that issued them. */
int turn_auth_new(struct turn_auth **out, const struct turn_auth_config *cfg);
/* Accepts NULL. Cleanses secrets, passwords and keys. */
void turn_auth_free(struct turn_auth *auth);

const char *turn_auth_realm(const struct turn_auth *auth);

/* Writes a fresh nonce for client (terminated; at most TURN_NONCE_MAX chars)
 * into out[TURN_NONCE_MAX + 1]. Stateless: an HMAC over the time and the
 * client's address. Starts with the RFC 8489 cookie "obMatJos2" announcing
 * PASSWORD-ALGORITHMS support. Returns its length (0 if OpenSSL failed). */
size_t turn_auth_nonce(const struct turn_auth *auth, const union turn_addr *client, uint64_t now,
                       char *out);

/* Outcome of checking a request's credentials. */
struct turn_auth_result {
    int code;                /* 0 ok; else the STUN error to answer: 400, 401, 438 */
    uint16_t integrity_attr; /* MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 used */
    size_t key_len;
    uint8_t key[TURN_AUTH_MAX_KEY]; /* the long-term key, for the response */
    const uint8_t *username;        /* borrowed from the request (from auth when the
                                       request named a static user by USERHASH) */
    size_t username_len;
    unsigned tries; /* keys derived and checked (one MESSAGE-INTEGRITY HMAC each) */
    /* Whom user-quota counts, inside username: a static user's name, or
     * the id after the first ':' of a REST username "<expiry>:<id>" (the
     * whole username when it has no ':'), so that a fresh expiry is not a
     * fresh quota. rest tells the two kinds apart. */
    const uint8_t *quota_id;
    size_t quota_id_len;
    bool rest;
};

/* Checks a request per RFC 8489 9.2.4: no integrity -> 401; integrity
 * without USERNAME (or USERHASH), REALM or NONCE -> 400; bad or old nonce
 * -> 438 (checked before the integrity: cheap, no per-secret work); a
 * PASSWORD-ALGORITHMS that differs from ours or a PASSWORD-ALGORITHM not in
 * it -> 400; another realm, unknown user, expired REST username or wrong
 * integrity -> 401. USERHASH is resolved for static users only.
 * MESSAGE-INTEGRITY-SHA256 is checked when present, else MESSAGE-INTEGRITY.
 * A username that names a static user is tried as that user only; else a
 * REST username "<unix-expiry>" or "<unix-expiry>:<id>" that has not
 * expired is tried against every secret. So a request costs one nonce
 * HMAC and at most max(1, n_secrets) tries (res->tries), each a key
 * derivation (for REST an HMAC-SHA1 and a digest) and one integrity HMAC.
 * On success fills key/integrity_attr for the response. */
void turn_auth_check(const struct turn_auth *auth, const struct stun_msg *msg,
                     const union turn_addr *client, uint64_t now, struct turn_auth_result *res);

/* Bytes the challenge attributes (REALM, NONCE, PASSWORD-ALGORITHMS) add
 * to an error response. */
size_t turn_auth_challenge_len(const struct turn_auth *auth);

/* Appends REALM, NONCE (fresh for client) and PASSWORD-ALGORITHMS: what a
 * 401 or 438 response carries. If OpenSSL fails, sets b->err (-EIO). */
void turn_auth_build_challenge(const struct turn_auth *auth, struct stun_builder *b,
                               const union turn_addr *client, uint64_t now);

/* REST password for username under secret: base64(HMAC-SHA1(secret, user)),
 * terminated, into out (at least 29 bytes). For tools and tests. */
void turn_auth_rest_password(const char *secret, const char *username, char out[29]);

/* Long-term key: MD5 or SHA-256 of "user:realm:password". Returns key length
 * (0 for an unknown algorithm or if OpenSSL failed). */
size_t turn_auth_key(enum stun_pw_alg alg, const uint8_t *user, size_t user_len, const char *realm,
                     const char *password, size_t password_len, uint8_t key[TURN_AUTH_MAX_KEY]);

#endif
