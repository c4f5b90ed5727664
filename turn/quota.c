/* Allocation quotas: a mutex-guarded chained hash of per-user counts. */
#include "quota.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define QUOTA_BUCKETS 4096

struct user_count {
    uint8_t hash[TURN_QUOTA_HASH_LEN];
    uint32_t count;
    struct user_count *next;
};

struct turn_quota {
    pthread_mutex_t lock;
    uint32_t total, per_user;
    _Atomic uint64_t in_use;
    uint8_t key[2][32]; /* [static user, REST id] */
    struct user_count *buckets[QUOTA_BUCKETS];
};

int turn_quota_new(struct turn_quota **out, uint32_t total, uint32_t per_user)
{
    struct turn_quota *q = calloc(1, sizeof(*q));

    if (!q) {
        return -ENOMEM;
    }
    if (RAND_bytes(&q->key[0][0], sizeof(q->key)) != 1) {
        free(q);
        return -EIO;
    }
    pthread_mutex_init(&q->lock, NULL);
    q->total = total;
    q->per_user = per_user;
    *out = q;
    return 0;
}

void turn_quota_set_limits(struct turn_quota *quota, uint32_t total, uint32_t per_user)
{
    pthread_mutex_lock(&quota->lock);
    quota->total = total;
    quota->per_user = per_user;
    pthread_mutex_unlock(&quota->lock);
}

void turn_quota_free(struct turn_quota *quota)
{
    if (!quota) {
        return;
    }
    for (size_t i = 0; i < QUOTA_BUCKETS; i++) {
        struct user_count *u = quota->buckets[i];
        while (u) {
            struct user_count *next = u->next;
            free(u);
            u = next;
        }
    }
    pthread_mutex_destroy(&quota->lock);
    OPENSSL_cleanse(quota->key, sizeof(quota->key));
    free(quota);
}

void turn_quota_hash(const struct turn_quota *quota, bool rest, const uint8_t *id, size_t len,
                     uint8_t hash[TURN_QUOTA_HASH_LEN])
{
    uint8_t mac[EVP_MAX_MD_SIZE] = {0};
    unsigned mac_len = 0;

    /* one key per kind: a REST id never shares a count with a static name */
    HMAC(EVP_sha256(), quota->key[rest], sizeof(quota->key[rest]), id, len, mac, &mac_len);
    memcpy(hash, mac, TURN_QUOTA_HASH_LEN);
}

static struct user_count **find(struct turn_quota *q, const uint8_t hash[TURN_QUOTA_HASH_LEN])
{
    uint32_t b;
    struct user_count **pp;

    memcpy(&b, hash, sizeof(b));
    pp = &q->buckets[b % QUOTA_BUCKETS];
    while (*pp && memcmp((*pp)->hash, hash, TURN_QUOTA_HASH_LEN) != 0) {
        pp = &(*pp)->next;
    }
    return pp;
}

int turn_quota_take(struct turn_quota *quota, const uint8_t hash[TURN_QUOTA_HASH_LEN])
{
    int err = 0;

    pthread_mutex_lock(&quota->lock);
    if (quota->total && atomic_load(&quota->in_use) >= quota->total) {
        err = -EDQUOT;
        goto out;
    }
    struct user_count **pp = find(quota, hash);
    if (!*pp) {
        *pp = calloc(1, sizeof(**pp));
        if (!*pp) {
            err = -ENOMEM;
            goto out;
        }
        memcpy((*pp)->hash, hash, TURN_QUOTA_HASH_LEN);
    }
    if (quota->per_user && (*pp)->count >= quota->per_user) {
        err = -EDQUOT;
        goto out;
    }
    (*pp)->count++;
    atomic_fetch_add(&quota->in_use, 1);
out:
    pthread_mutex_unlock(&quota->lock);
    return err;
}

void turn_quota_release(struct turn_quota *quota, const uint8_t hash[TURN_QUOTA_HASH_LEN])
{
    pthread_mutex_lock(&quota->lock);
    struct user_count **pp = find(quota, hash);
    struct user_count *u = *pp;
    if (u) {
        atomic_fetch_sub(&quota->in_use, 1);
        if (--u->count == 0) {
            *pp = u->next;
            free(u);
        }
    }
    pthread_mutex_unlock(&quota->lock);
}

uint64_t turn_quota_in_use(const struct turn_quota *quota)
{
    return atomic_load_explicit(&((struct turn_quota *)quota)->in_use, memory_order_relaxed);
}
