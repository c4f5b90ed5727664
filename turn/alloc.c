/* Allocation table, permissions and channel bindings (RFC 8656 7, 9, 12). */
#include "alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define TABLE_MIN_BUCKETS 64

struct turn_alloc_table {
    struct turn_alloc **buckets;
    size_t n_buckets; /* power of two */
    size_t count;
    struct turn_siphash_key key; /* per table, so clients cannot aim at one chain */
    struct turn_alloc *head;
};

/* The client address decides the bucket: a server address or transport
 * shared by many clients adds nothing to spread them. */
static uint32_t tuple_hash(const struct turn_alloc_table *t, const struct turn_tuple *tuple)
{
    return (uint32_t)turn_addr_hash(&tuple->client, &t->key);
}

static bool tuple_equal(const struct turn_tuple *a, const struct turn_tuple *b)
{
    return a->transport == b->transport && turn_addr_equal(&a->client, &b->client) &&
           turn_addr_equal(&a->server, &b->server) && a->conn == b->conn;
}

int turn_alloc_table_new(struct turn_alloc_table **out)
{
    struct turn_alloc_table *t = calloc(1, sizeof(*t));

    if (!t) {
        return -ENOMEM;
    }
    t->n_buckets = TABLE_MIN_BUCKETS;
    t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
    if (!t->buckets) {
        free(t);
        return -ENOMEM;
    }
    if (turn_siphash_key_random(&t->key) < 0) {
        free(t->buckets);
        free(t);
        return -EIO;
    }
    *out = t;
    return 0;
}

static void alloc_free(struct turn_alloc *a)
{
    OPENSSL_cleanse(a->key, sizeof(a->key));
    free(a->perms);
    free(a->chans);
    free(a);
}

void turn_alloc_table_free(struct turn_alloc_table *table)
{
    if (!table) {
        return;
    }
    struct turn_alloc *a = table->head;
    while (a) {
        struct turn_alloc *next = a->next;
        alloc_free(a);
        a = next;
    }
    free(table->buckets);
    turn_siphash_key_clear(&table->key);
    free(table);
}

size_t turn_alloc_table_count(const struct turn_alloc_table *table)
{
    return table->count;
}

struct turn_alloc *turn_alloc_table_first(const struct turn_alloc_table *table)
{
    return table->head;
}

struct turn_alloc *turn_alloc_find(const struct turn_alloc_table *table,
                                   const struct turn_tuple *tuple)
{
    struct turn_alloc *a = table->buckets[tuple_hash(table, tuple) & (table->n_buckets - 1)];

    while (a && !tuple_equal(&a->tuple, tuple)) {
        a = a->hnext;
    }
    return a;
}

/* Doubles the bucket array when the load passes 1; a failed resize only
 * makes chains longer. */
static void table_grow(struct turn_alloc_table *t)
{
    size_t n = t->n_buckets * 2;
    struct turn_alloc **b = calloc(n, sizeof(*b));

    if (!b) {
        return;
    }
    for (struct turn_alloc *a = t->head; a; a = a->next) {
        size_t i = tuple_hash(t, &a->tuple) & (n - 1);
        a->hnext = b[i];
        b[i] = a;
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
}

struct turn_alloc *turn_alloc_add(struct turn_alloc_table *table, const struct turn_tuple *tuple)
{
    struct turn_alloc *a = calloc(1, sizeof(*a));

    if (!a) {
        return NULL;
    }
    a->tuple = *tuple;
    if (table->count >= table->n_buckets) {
        table_grow(table);
    }
    size_t i = tuple_hash(table, tuple) & (table->n_buckets - 1);
    a->hnext = table->buckets[i];
    table->buckets[i] = a;
    a->next = table->head;
    if (table->head) {
        table->head->prev = a;
    }
    table->head = a;
    table->count++;
    return a;
}

void turn_alloc_remove(struct turn_alloc_table *table, struct turn_alloc *alloc)
{
    struct turn_alloc **pp =
        &table->buckets[tuple_hash(table, &alloc->tuple) & (table->n_buckets - 1)];

    while (*pp && *pp != alloc) {
        pp = &(*pp)->hnext;
    }
    if (*pp) {
        *pp = alloc->hnext;
    }
    if (alloc->prev) {
        alloc->prev->next = alloc->next;
    } else {
        table->head = alloc->next;
    }
    if (alloc->next) {
        alloc->next->prev = alloc->prev;
    }
    table->count--;
    alloc_free(alloc);
}

static bool channel_live(const struct turn_channel *c, uint64_t now)
{
    return c->expires > now;
}

/* Expired but still holding its number and peer (RFC 8656 12). */
static bool channel_reserved(const struct turn_channel *c, uint64_t now)
{
    return c->expires <= now && now < c->expires + TURN_CHANNEL_RESERVE;
}

static void expire_entries(struct turn_alloc *a, uint64_t now)
{
    uint16_t n = 0;

    for (uint16_t i = 0; i < a->n_perms; i++) {
        if (a->perms[i].expires > now) {
            a->perms[n++] = a->perms[i];
        }
    }
    a->n_perms = n;
    n = 0;
    for (uint16_t i = 0; i < a->n_chans; i++) {
        if (now < a->chans[i].expires + TURN_CHANNEL_RESERVE) {
            a->chans[n++] = a->chans[i];
        }
    }
    a->n_chans = n;
}

static uint64_t live_channels(const struct turn_alloc *a, uint64_t now)
{
    uint64_t n = 0;

    for (uint16_t i = 0; i < a->n_chans; i++) {
        n += channel_live(&a->chans[i], now);
    }
    return n;
}

void turn_alloc_sweep(struct turn_alloc_table *table, uint64_t now,
                      void (*expired_cb)(struct turn_alloc *alloc, void *arg), void *arg,
                      struct turn_alloc_counts *counts)
{
    struct turn_alloc *a = table->head;

    *counts = (struct turn_alloc_counts){0};
    while (a) {
        struct turn_alloc *next = a->next;
        if (a->expires <= now) {
            expired_cb(a, arg);
        } else {
            expire_entries(a, now);
            counts->permissions += a->n_perms;
            counts->channels += live_channels(a, now);
        }
        a = next;
    }
}

/* Grows an array of entries by doubling, up to max entries. */
static int grow(void **arr, uint16_t *cap, size_t size, unsigned max)
{
    unsigned n = *cap ? *cap * 2u : 2u;
    void *p;

    if (*cap >= max) {
        return -ENOSPC;
    }
    if (n > max) {
        n = max;
    }
    p = realloc(*arr, n * size);
    if (!p) {
        return -ENOMEM;
    }
    *arr = p;
    *cap = (uint16_t)n;
    return 0;
}

static struct turn_permission *find_permission(const struct turn_alloc *a,
                                               const union turn_addr *peer)
{
    for (uint16_t i = 0; i < a->n_perms; i++) {
        if (turn_addr_ip_equal(&a->perms[i].ip, peer)) {
            return &a->perms[i];
        }
    }
    return NULL;
}

/* Makes room for n more entries in an array, within max. */
static int reserve(void **arr, uint16_t *cap, uint16_t used, unsigned n, size_t size, unsigned max)
{
    int err;

    /* n 0 (refreshing what exists) always fits: a reload may have lowered
     * max below what an allocation already holds */
    if (n && used + n > max) {
        return -ENOSPC;
    }
    while (used + n > *cap) {
        if ((err = grow(arr, cap, size, max)) < 0) {
            return err;
        }
    }
    return 0;
}

int turn_alloc_permit(struct turn_alloc *alloc, const union turn_addr *peers, unsigned n,
                      uint64_t now, unsigned max)
{
    unsigned fresh = 0;
    int err;

    expire_entries(alloc, now);
    for (unsigned i = 0; i < n; i++) {
        bool seen = find_permission(alloc, &peers[i]) != NULL;
        for (unsigned j = 0; j < i && !seen; j++) {
            seen = turn_addr_ip_equal(&peers[i], &peers[j]);
        }
        fresh += !seen;
    }
    err = reserve((void **)&alloc->perms, &alloc->cap_perms, alloc->n_perms, fresh,
                  sizeof(*alloc->perms), max);
    if (err < 0) {
        return err;
    }
    for (unsigned i = 0; i < n; i++) {
        struct turn_permission *p = find_permission(alloc, &peers[i]);
        if (!p) {
            p = &alloc->perms[alloc->n_perms++];
            p->ip = peers[i];
            turn_addr_set_port(&p->ip, 0);
        }
        p->expires = now + TURN_PERMISSION_LIFETIME;
    }
    return 0;
}

bool turn_alloc_permitted(const struct turn_alloc *alloc, const union turn_addr *peer, uint64_t now)
{
    const struct turn_permission *p = find_permission(alloc, peer);

    return p && p->expires > now;
}

static struct turn_channel *find_channel(const struct turn_alloc *a, uint16_t number,
                                         const union turn_addr *peer, uint64_t now)
{
    for (uint16_t i = 0; i < a->n_chans; i++) {
        struct turn_channel *c = &a->chans[i];
        bool match = peer ? turn_addr_equal(&c->peer, peer) : c->number == number;
        if (match && channel_live(c, now)) {
            return c;
        }
    }
    return NULL;
}

/* A reserved binding of exactly want's number and peer, which may come
 * back; or, through *clash, whether a reserved binding holds the number or
 * the peer for something else. */
static struct turn_channel *find_reserved(const struct turn_alloc *a,
                                          const struct turn_channel *want, uint64_t now,
                                          bool *clash)
{
    struct turn_channel *same = NULL;

    *clash = false;
    for (uint16_t i = 0; i < a->n_chans; i++) {
        struct turn_channel *c = &a->chans[i];
        bool number = c->number == want->number, peer = turn_addr_equal(&c->peer, &want->peer);
        if (!channel_reserved(c, now) || (!number && !peer)) {
            continue;
        }
        if (number && peer) {
            same = c;
        } else {
            *clash = true;
        }
    }
    return same;
}

int turn_alloc_bind_check(const struct turn_alloc *alloc, const struct turn_channel *want,
                          uint64_t now, unsigned max)
{
    struct turn_channel *by_number = find_channel(alloc, want->number, NULL, now);
    struct turn_channel *by_peer = find_channel(alloc, 0, &want->peer, now);
    bool clash;

    if (by_number != by_peer) {
        return -EEXIST; /* RFC 8656 12.2: one number, one peer, both ways */
    }
    if (by_number) {
        return 0;
    }
    find_reserved(alloc, want, now, &clash);
    if (clash) {
        return -EEXIST; /* RFC 8656 12: not rebound within 5 minutes of expiry */
    }
    return live_channels(alloc, now) < max ? 0 : -ENOSPC;
}

int turn_alloc_bind(struct turn_alloc *alloc, const struct turn_channel *want, uint64_t now,
                    unsigned max)
{
    struct turn_channel *c;
    bool clash;
    int err = turn_alloc_bind_check(alloc, want, now, max);

    if (err < 0) {
        return err;
    }
    c = find_channel(alloc, want->number, NULL, now);
    if (!c) {
        c = find_reserved(alloc, want, now, &clash);
    }
    if (!c) {
        expire_entries(alloc, now);
        /* live ones stay within max; the reserved ones were live at most
         * TURN_CHANNEL_RESERVE ago, when they were within max too */
        err = reserve((void **)&alloc->chans, &alloc->cap_chans, alloc->n_chans, 1,
                      sizeof(*alloc->chans), 2 * max);
        if (err < 0) {
            return err;
        }
        c = &alloc->chans[alloc->n_chans++];
        c->peer = want->peer;
        c->number = want->number;
    }
    c->relay_peer = want->relay_peer;
    c->expires = now + TURN_CHANNEL_LIFETIME;
    return 0;
}

unsigned turn_alloc_revoke(struct turn_alloc *alloc, uint64_t now,
                           bool (*perm_ok)(const union turn_addr *ip, void *arg),
                           bool (*chan_ok)(struct turn_channel *chan, void *arg), void *arg)
{
    unsigned ended = 0;

    for (uint16_t i = 0; i < alloc->n_perms; i++) {
        struct turn_permission *p = &alloc->perms[i];
        if (p->expires > now && !perm_ok(&p->ip, arg)) {
            p->expires = now;
            ended++;
        }
    }
    for (uint16_t i = 0; i < alloc->n_chans; i++) {
        struct turn_channel *c = &alloc->chans[i];
        if (channel_live(c, now) && !chan_ok(c, arg)) {
            c->expires = now;
            ended++;
        }
    }
    return ended;
}

const struct turn_channel *turn_alloc_channel(const struct turn_alloc *alloc, uint16_t number,
                                              uint64_t now)
{
    return find_channel(alloc, number, NULL, now);
}

const struct turn_channel *turn_alloc_channel_to(const struct turn_alloc *alloc,
                                                 const union turn_addr *peer, uint64_t now)
{
    return find_channel(alloc, 0, peer, now);
}
