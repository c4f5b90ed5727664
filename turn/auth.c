/* Long-term credentials (RFC 8489 9.2, RFC 8656 5): static users, TURN REST
 * API usernames "<expiry>[:<id>]" checked against shared secrets
 * (draft-uberti-behave-turn-rest), password algorithms and USERHASH. */
#include "auth.h"

#include <assert.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "nonce.h"

#define AUTH_DEFAULT_NONCE_LIFETIME 600
#define MD5_KEY_LEN 16
#define SHA256_LEN 32
#define REST_PASSWORD_LEN 28 /* base64 of a 20-byte HMAC-SHA1 */

struct auth_user {
    char *name;
    size_t name_len;
    uint8_t key_md5[MD5_KEY_LEN];
    uint8_t key_sha256[SHA256_LEN];
    uint8_t userhash[SHA256_LEN]; /* SHA-256("name:realm"), RFC 8489 14.4 */
};

struct turn_auth {
    char realm[TURN_REALM_MAX + 1];
    size_t realm_len;
    uint32_t nonce_lifetime;
    uint8_t nonce_key[TURN_NONCE_KEY_LEN];
    char **secrets;
    size_t n_secrets;
    struct auth_user *users;
    size_t n_users;
};

/* PASSWORD-ALGORITHMS as we send it: MD5 then SHA-256, no parameters. */
static const uint8_t our_pw_algs[8] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00};

size_t turn_auth_key(enum stun_pw_alg alg, const uint8_t *user, size_t user_len, const char *realm,
                     const char *password, size_t password_len, uint8_t key[TURN_AUTH_MAX_KEY])
{
    const EVP_MD *md = alg == STUN_PW_SHA256 ? EVP_sha256() : alg == STUN_PW_MD5 ? EVP_md5() : NULL;
    EVP_MD_CTX *ctx;
    unsigned len = 0;
    int ok;

    if (!md || !(ctx = EVP_MD_CTX_new())) {
        return 0;
    }
    ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, user, user_len) &&
         EVP_DigestUpdate(ctx, ":", 1) && EVP_DigestUpdate(ctx, realm, strlen(realm)) &&
         EVP_DigestUpdate(ctx, ":", 1) && EVP_DigestUpdate(ctx, password, password_len) &&
         EVP_DigestFinal_ex(ctx, key, &len);
    EVP_MD_CTX_free(ctx);
    return ok ? len : 0;
}

/* base64(HMAC-SHA1(secret, user)) into out[29]; false if OpenSSL failed. */
static bool rest_password(const char *secret, const uint8_t *user, size_t user_len,
                          char out[REST_PASSWORD_LEN + 1])
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;

    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), user, user_len, mac, &mac_len) ||
        mac_len != 20) {
        out[0] = '\0';
        return false;
    }
    EVP_EncodeBlock((unsigned char *)out, mac, 20);
    OPENSSL_cleanse(mac, sizeof(mac));
    return true;
}

void turn_auth_rest_password(const char *secret, const char *username, char out[29])
{
    rest_password(secret, (const uint8_t *)username, strlen(username), out);
}

static int add_user(struct turn_auth *auth, const char *entry)
{
    const char *colon = strchr(entry, ':');
    struct auth_user *u = &auth->users[auth->n_users];
    const uint8_t *name = (const uint8_t *)entry;
    size_t name_len = colon ? (size_t)(colon - entry) : 0;
    size_t pw_len = colon ? strlen(colon + 1) : 0;
    unsigned hash_len = 0;
    uint8_t buf[TURN_AUTH_MAX_KEY];

    if (name_len == 0) {
        return -EINVAL;
    }
    u->name = strndup(entry, name_len);
    if (!u->name) {
        return -ENOMEM;
    }
    u->name_len = name_len;
    auth->n_users++;
    if (turn_auth_key(STUN_PW_MD5, name, name_len, auth->realm, colon + 1, pw_len, buf) !=
            MD5_KEY_LEN ||
        turn_auth_key(STUN_PW_SHA256, name, name_len, auth->realm, colon + 1, pw_len,
                      u->key_sha256) != SHA256_LEN) {
        return -ENOMEM;
    }
    memcpy(u->key_md5, buf, MD5_KEY_LEN);
    OPENSSL_cleanse(buf, sizeof(buf));
    /* USERHASH is the long-term key's input without the password. */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, name, name_len) && EVP_DigestUpdate(ctx, ":", 1) &&
             EVP_DigestUpdate(ctx, auth->realm, auth->realm_len) &&
             EVP_DigestFinal_ex(ctx, u->userhash, &hash_len);
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -ENOMEM;
}

static int auth_fill(struct turn_auth *auth, const struct turn_auth_config *cfg)
{
    auth->secrets = calloc(cfg->n_secrets ? cfg->n_secrets : 1, sizeof(*auth->secrets));
    auth->users = calloc(cfg->n_users ? cfg->n_users : 1, sizeof(*auth->users));
    if (!auth->secrets || !auth->users) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < cfg->n_secrets; i++) {
        if (!cfg->secrets[i] || cfg->secrets[i][0] == '\0') {
            return -EINVAL;
        }
        auth->secrets[i] = strdup(cfg->secrets[i]);
        if (!auth->secrets[i]) {
            return -ENOMEM;
        }
        auth->n_secrets++;
    }
    for (size_t i = 0; i < cfg->n_users; i++) {
        int err = cfg->users[i] ? add_user(auth, cfg->users[i]) : -EINVAL;
        if (err < 0) {
            return err;
        }
    }
    return 0;
}

int turn_auth_new(struct turn_auth **out, const struct turn_auth_config *cfg)
{
    struct turn_auth *auth;
    size_t realm_len = cfg->realm ? strlen(cfg->realm) : 0;
    int err;

    *out = NULL;
    if (realm_len == 0 || realm_len > TURN_REALM_MAX) {
        return -EINVAL;
    }
    auth = calloc(1, sizeof(*auth));
    if (!auth) {
        return -ENOMEM;
    }
    memcpy(auth->realm, cfg->realm, realm_len + 1);
    auth->realm_len = realm_len;
    auth->nonce_lifetime = cfg->nonce_lifetime ? cfg->nonce_lifetime : AUTH_DEFAULT_NONCE_LIFETIME;
    if (cfg->nonces_of) {
        /* a reload: nonces already handed out stay valid */
        memcpy(auth->nonce_key, cfg->nonces_of->nonce_key, sizeof(auth->nonce_key));
    } else if (RAND_bytes(auth->nonce_key, sizeof(auth->nonce_key)) != 1) {
        err = -ENOMEM;
        goto out;
    }
    err = auth_fill(auth, cfg);
out:
    if (err < 0) {
        turn_auth_free(auth);
        return err;
    }
    *out = auth;
    return 0;
}

void turn_auth_free(struct turn_auth *auth)
{
    if (!auth) {
        return;
    }
    for (size_t i = 0; i < auth->n_secrets; i++) {
        OPENSSL_cleanse(auth->secrets[i], strlen(auth->secrets[i]));
        free(auth->secrets[i]);
    }
    free(auth->secrets);
    for (size_t i = 0; i < auth->n_users; i++) {
        free(auth->users[i].name);
    }
    if (auth->users) {
        OPENSSL_cleanse(auth->users, auth->n_users * sizeof(*auth->users));
    }
    free(auth->users);
    OPENSSL_cleanse(auth, sizeof(*auth));
    free(auth);
}

const char *turn_auth_realm(const struct turn_auth *auth)
{
    return auth->realm;
}

/* The challenge of the longest realm must stay within TURN_UNAUTH_GAIN
 * (4x) of the smallest Allocate a client sends: header and
 * REQUESTED-TRANSPORT, 28 bytes. 20 header + 8 ERROR-CODE (no reason) +
 * REALM + NONCE + PASSWORD-ALGORITHMS. */
#define PAD4(n) (((n) + 3) / 4 * 4)
#define CHALLENGE_ATTRS(realm_len)                                                                 \
    (4 + PAD4(realm_len) + 4 + PAD4(TURN_NONCE_LEN) + 4 + sizeof(our_pw_algs))
_Static_assert(20 + 8 + CHALLENGE_ATTRS(TURN_REALM_MAX) <= 4 * 28,
               "a 401 to a 28-byte Allocate would exceed 4x: shorten TURN_REALM_MAX");

size_t turn_auth_challenge_len(const struct turn_auth *auth)
{
    return CHALLENGE_ATTRS(auth->realm_len);
}

size_t turn_auth_nonce(const struct turn_auth *auth, const union turn_addr *client, uint64_t now,
                       char *out)
{
    return turn_nonce_make(auth->nonce_key, client, now, out);
}

void turn_auth_build_challenge(const struct turn_auth *auth, struct stun_builder *b,
                               const union turn_addr *client, uint64_t now)
{
    char nonce[TURN_NONCE_MAX + 1];
    size_t nonce_len = turn_auth_nonce(auth, client, now, nonce);

    if (nonce_len == 0 && b->err == 0) {
        b->err = -EIO; /* OpenSSL failed: make stun_build_finish fail */
    }
    stun_build_attr(b, STUN_ATTR_REALM, auth->realm, auth->realm_len);
    stun_build_attr(b, STUN_ATTR_NONCE, nonce, nonce_len);
    stun_build_attr(b, STUN_ATTR_PASSWORD_ALGORITHMS, our_pw_algs, sizeof(our_pw_algs));
}

/* RFC 8489 9.2.4: neither PASSWORD-ALGORITHMS nor PASSWORD-ALGORITHM means
 * MD5; otherwise both must be present, the list byte-equal to ours and the
 * choice one of its entries. Returns 0 or -1 (answer 400). */
static int pick_alg(const struct stun_msg *msg, enum stun_pw_alg *alg)
{
    const struct stun_attr *list = stun_msg_find(msg, STUN_ATTR_PASSWORD_ALGORITHMS);
    const struct stun_attr *one = stun_msg_find(msg, STUN_ATTR_PASSWORD_ALGORITHM);
    const uint8_t *v;
    unsigned a;

    if (!list && !one) {
        *alg = STUN_PW_MD5;
        return 0;
    }
    if (!list || !one || list->len != sizeof(our_pw_algs) ||
        memcmp(stun_attr_value(msg, list), our_pw_algs, sizeof(our_pw_algs)) != 0) {
        return -1;
    }
    v = stun_attr_value(msg, one);
    if (one->len != 4 || v[2] != 0 || v[3] != 0) {
        return -1; /* neither of our algorithms takes parameters */
    }
    a = (unsigned)v[0] << 8 | v[1];
    if (a != STUN_PW_MD5 && a != STUN_PW_SHA256) {
        return -1;
    }
    *alg = (enum stun_pw_alg)a;
    return 0;
}

/* What a check works with once the request's attributes are found. */
struct auth_req {
    const struct stun_msg *msg;
    uint16_t mi_type;
    enum stun_pw_alg alg;
    const uint8_t *user;
    size_t user_len;
};

static bool try_key(const struct auth_req *req, const uint8_t *key, size_t key_len,
                    struct turn_auth_result *res)
{
    res->tries++;
    if (key_len == 0 || stun_msg_check_integrity(req->msg, req->mi_type, key, key_len) != 0) {
        return false;
    }
    memcpy(res->key, key, key_len);
    res->key_len = key_len;
    return true;
}

static bool check_user(const struct auth_user *u, const struct auth_req *req,
                       struct turn_auth_result *res)
{
    if (req->alg == STUN_PW_SHA256) {
        return try_key(req, u->key_sha256, SHA256_LEN, res);
    }
    return try_key(req, u->key_md5, MD5_KEY_LEN, res);
}

/* The static user of this name, or NULL. */
static const struct auth_user *find_static(const struct turn_auth *auth, const struct auth_req *req)
{
    for (size_t i = 0; i < auth->n_users; i++) {
        const struct auth_user *u = &auth->users[i];
        if (u->name_len == req->user_len && memcmp(u->name, req->user, req->user_len) == 0) {
            return u;
        }
    }
    return NULL;
}

/* "<digits>" or "<digits>:<anything>" -> expiry; false if not REST-shaped. */
static bool rest_expiry(const uint8_t *user, size_t len, uint64_t *expiry)
{
    uint64_t v = 0;
    size_t i = 0;

    for (; i < len && user[i] >= '0' && user[i] <= '9'; i++) {
        if (v > (UINT64_MAX - 9) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(user[i] - '0');
    }
    if (i == 0 || (i < len && user[i] != ':')) {
        return false;
    }
    *expiry = v;
    return true;
}

static bool check_rest(const struct turn_auth *auth, const struct auth_req *req, uint64_t now,
                       struct turn_auth_result *res)
{
    char password[REST_PASSWORD_LEN + 1];
    uint8_t key[TURN_AUTH_MAX_KEY];
    uint64_t expiry;
    bool ok = false;

    if (!rest_expiry(req->user, req->user_len, &expiry) || expiry < now) {
        return false;
    }
    for (size_t i = 0; i < auth->n_secrets && !ok; i++) {
        size_t key_len = 0;
        if (rest_password(auth->secrets[i], req->user, req->user_len, password)) {
            key_len = turn_auth_key(req->alg, req->user, req->user_len, auth->realm, password,
                                    REST_PASSWORD_LEN, key);
        }
        ok = try_key(req, key, key_len, res);
    }
    OPENSSL_cleanse(password, sizeof(password));
    OPENSSL_cleanse(key, sizeof(key));
    return ok;
}

/* A REST username counts against user-quota by its id, as coturn counts
 * it: "<expiry>:<id>" -> "<id>"; "<expiry>" alone stays whole. */
static void rest_quota_id(struct turn_auth_result *res)
{
    const uint8_t *colon = memchr(res->username, ':', res->username_len);

    res->rest = true;
    if (colon) {
        res->quota_id = colon + 1;
        res->quota_id_len = res->username_len - (size_t)(colon + 1 - res->username);
    }
}

/* USERHASH (RFC 8489 14.4) names a static user; REST usernames cannot be
 * recovered from their hash. */
static const struct auth_user *find_userhash(const struct turn_auth *auth,
                                             const struct stun_msg *msg,
                                             const struct stun_attr *uhash)
{
    if (uhash->len != SHA256_LEN) {
        return NULL;
    }
    for (size_t i = 0; i < auth->n_users; i++) {
        if (CRYPTO_memcmp(auth->users[i].userhash, stun_attr_value(msg, uhash), SHA256_LEN) == 0) {
            return &auth->users[i];
        }
    }
    return NULL;
}

/* Steps after the nonce and algorithm checks: realm, user, integrity. */
static int check_credentials(const struct turn_auth *auth, struct auth_req *req, uint64_t now,
                             struct turn_auth_result *res)
{
    const struct stun_attr *realm = stun_msg_find(req->msg, STUN_ATTR_REALM);
    const struct stun_attr *uname = stun_msg_find(req->msg, STUN_ATTR_USERNAME);
    const struct stun_attr *uhash = stun_msg_find(req->msg, STUN_ATTR_USERHASH);

    if (realm->len != auth->realm_len ||
        memcmp(stun_attr_value(req->msg, realm), auth->realm, auth->realm_len) != 0) {
        return 401;
    }
    if (!uname) {
        const struct auth_user *u = find_userhash(auth, req->msg, uhash);
        if (!u) {
            return 401;
        }
        res->username = (const uint8_t *)u->name;
        res->username_len = u->name_len;
        res->quota_id = res->username;
        res->quota_id_len = res->username_len;
        return check_user(u, req, res) ? 0 : 401;
    }
    req->user = stun_attr_value(req->msg, uname);
    req->user_len = uname->len;
    res->username = req->user;
    res->username_len = req->user_len;
    res->quota_id = req->user;
    res->quota_id_len = req->user_len;
    /* a static user's name is tried only as that user: one key, never
     * every secret as well */
    const struct auth_user *u = find_static(auth, req);
    if (u) {
        return check_user(u, req, res) ? 0 : 401;
    }
    if (check_rest(auth, req, now, res)) {
        rest_quota_id(res);
        return 0;
    }
    return 401;
}

void turn_auth_check(const struct turn_auth *auth, const struct stun_msg *msg,
                     const union turn_addr *client, uint64_t now, struct turn_auth_result *res)
{
    const struct stun_attr *mi = stun_msg_find(msg, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
    const struct stun_attr *nonce;
    struct auth_req req = {.msg = msg};

    memset(res, 0, sizeof(*res));
    if (!mi) {
        mi = stun_msg_find(msg, STUN_ATTR_MESSAGE_INTEGRITY);
    }
    if (!mi) {
        res->code = 401;
        return;
    }
    req.mi_type = mi->type;
    res->integrity_attr = mi->type;
    nonce = stun_msg_find(msg, STUN_ATTR_NONCE);
    if ((!stun_msg_find(msg, STUN_ATTR_USERNAME) && !stun_msg_find(msg, STUN_ATTR_USERHASH)) ||
        !stun_msg_find(msg, STUN_ATTR_REALM) || !nonce) {
        res->code = 400;
        return;
    }
    /* The nonce is checked before the integrity (cheap, and it rejects
     * floods without any per-secret work); RFC 8489 lists it last, which
     * only changes which error a client with a wrong password and an old
     * nonce sees first. */
    if (!turn_nonce_valid(auth->nonce_key, stun_attr_value(msg, nonce), nonce->len, client, now,
                          auth->nonce_lifetime)) {
        res->code = 438;
        return;
    }
    if (pick_alg(msg, &req.alg) < 0) {
        res->code = 400;
        return;
    }
    res->code = check_credentials(auth, &req, now, res);
    if (res->code != 0) {
        OPENSSL_cleanse(res->key, sizeof(res->key));
        res->key_len = 0;
    }
}
