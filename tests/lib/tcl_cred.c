/* turnclient: long-term credentials on the client side (RFC 8489 9.2): static
 * and TURN REST users, the 401/438 challenge, MD5 or SHA-256 keys, the
 * PASSWORD-ALGORITHMS echo, and the check of authenticated responses. */
#include "turnclient.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

static int tcl_copy(char *dst, size_t cap, const char *src)
{
    size_t len = strlen(src);

    if (len >= cap) {
        return -EINVAL;
    }
    memcpy(dst, src, len + 1);
    return 0;
}

int tcl_cred_static(struct tcl_cred *c, const char *user, const char *password, bool sha256)
{
    memset(c, 0, sizeof(*c));
    c->sha256 = sha256;
    if (tcl_copy(c->user, sizeof(c->user), user) != 0 ||
        tcl_copy(c->password, sizeof(c->password), password) != 0) {
        return -EINVAL;
    }
    return 0;
}

int tcl_cred_rest(struct tcl_cred *c, const char *secret, const char *id, long long expiry,
                  bool sha256)
{
    int n;

    memset(c, 0, sizeof(*c));
    c->sha256 = sha256;
    n = snprintf(c->user, sizeof(c->user), "%lld:%s", expiry, id);
    if (n < 0 || (size_t)n >= sizeof(c->user)) {
        return -EINVAL;
    }
    _Static_assert(sizeof(c->password) >= 29, "a REST password is 28 characters");
    turn_auth_rest_password(secret, c->user, c->password);
    return 0;
}

void tcl_cred_clear(struct tcl_cred *c)
{
    OPENSSL_cleanse(c->password, sizeof(c->password));
    OPENSSL_cleanse(c->key, sizeof(c->key));
    c->key_len = 0;
}

/* Whether a PASSWORD-ALGORITHMS value lists alg (RFC 8489 14.11). */
static bool tcl_algs_have(const uint8_t *v, size_t len, uint16_t alg)
{
    size_t i = 0;

    while (i + 4 <= len) {
        uint16_t a = (uint16_t)(v[i] << 8 | v[i + 1]);
        uint16_t plen = (uint16_t)(v[i + 2] << 8 | v[i + 3]);

        if (a == alg) {
            return true;
        }
        i += 4 + ((plen + 3u) & ~3u);
    }
    return false;
}

/* Takes the challenge's REALM. Returns 1 when it differs from the one
 * known, 0 when it is the same or absent, -EPROTO when it does not fit. */
static int tcl_take_realm(struct tcl_cred *c, const struct stun_msg *m)
{
    const struct stun_attr *realm = stun_msg_find(m, STUN_ATTR_REALM);

    if (!realm) {
        return 0;
    }
    if (realm->len >= sizeof(c->realm)) {
        return -EPROTO;
    }
    if (strlen(c->realm) == realm->len &&
        memcmp(c->realm, stun_attr_value(m, realm), realm->len) == 0) {
        return 0;
    }
    memcpy(c->realm, stun_attr_value(m, realm), realm->len);
    c->realm[realm->len] = '\0';
    return 1;
}

int tcl_cred_challenge(struct tcl_cred *c, struct tcl_nonce *n, const struct stun_msg *m)
{
    const struct stun_attr *nonce = stun_msg_find(m, STUN_ATTR_NONCE);
    const struct stun_attr *algs = stun_msg_find(m, STUN_ATTR_PASSWORD_ALGORITHMS);
    enum stun_pw_alg alg = c->sha256 ? STUN_PW_SHA256 : STUN_PW_MD5;
    int realm;

    if (!nonce || nonce->len == 0 || nonce->len >= sizeof(n->val) ||
        (!stun_msg_find(m, STUN_ATTR_REALM) && c->key_len == 0)) {
        return -EPROTO;
    }
    memcpy(n->val, stun_attr_value(m, nonce), nonce->len);
    n->len = (uint8_t)nonce->len;
    if (algs && algs->len <= sizeof(c->pw_algs)) {
        memcpy(c->pw_algs, stun_attr_value(m, algs), algs->len);
        c->pw_algs_len = algs->len;
    }
    if (c->sha256 && !tcl_algs_have(c->pw_algs, c->pw_algs_len, STUN_PW_SHA256)) {
        return -ENOTSUP;
    }
    realm = tcl_take_realm(c, m);
    if (realm < 0) {
        return realm;
    }
    if (realm > 0 || c->key_len == 0) {
        c->key_len = turn_auth_key(alg, (const uint8_t *)c->user, strlen(c->user), c->realm,
                                   c->password, strlen(c->password), c->key);
    }
    return c->key_len > 0 ? 0 : -EPROTO;
}

bool tcl_cred_retry(int code, bool sent_with_credentials)
{
    return sent_with_credentials ? code == 438 : code == 401;
}

int tcl_cred_verify(const struct tcl_cred *c, const struct stun_msg *m, int code)
{
    uint16_t type = 0;

    if (code == 400 || code == 401 || code == 438) {
        return 0; /* the server could not or did not accept our key */
    }
    if (stun_msg_find(m, STUN_ATTR_MESSAGE_INTEGRITY_SHA256)) {
        type = STUN_ATTR_MESSAGE_INTEGRITY_SHA256;
    } else if (stun_msg_find(m, STUN_ATTR_MESSAGE_INTEGRITY)) {
        type = STUN_ATTR_MESSAGE_INTEGRITY;
    }
    if (type == 0) {
        return code == 0 ? -EPROTO : 0;
    }
    return stun_msg_check_integrity(m, type, c->key, c->key_len) == 0 ? 0 : -EACCES;
}
