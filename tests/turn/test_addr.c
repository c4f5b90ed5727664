/* Tests for turn/addr.c: the keyed tuple hash (SipHash-1-3 over family,
 * port and address) against the tuples an attacker with a /64 would pick,
 * and the address helpers. */
#include <string.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "turn/addr.h"

#define N_TUPLES 1000
/* the alloc table doubles its buckets when the count reaches them: 1,000
 * allocations live in 1,024 buckets */
#define TABLE_BUCKETS 1024
#define MAX_CHAIN 8

/* The hash this replaced: the port and the address words are XORed into
 * the seed before any mixing, so tuples with equal port ^ address bits
 * collide whatever the seed is. */
static uint32_t old_hash(const union turn_addr *a, uint64_t seed)
{
    uint64_t h = seed ^ a->in4.sin_port;

    if (a->sa.sa_family == AF_INET6) {
        uint64_t w[2];
        memcpy(w, &a->in6.sin6_addr, 16);
        h ^= w[0] * 0x9E3779B97F4A7C15ull ^ w[1];
    } else {
        h ^= (uint64_t)a->in4.sin_addr.s_addr << 16;
    }
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 29;
    return (uint32_t)h;
}

/* Tuple i of the attack: one /64 (2001:db8:1:2::/64), interface ids whose
 * low 16 bits (as the old hash loads them) are i, and the source port
 * chosen so that port ^ those bits is the same constant for every i. */
static union turn_addr crafted(unsigned i)
{
    union turn_addr a;
    uint64_t iid = i;

    memset(&a, 0, sizeof(a));
    a.in6.sin6_family = AF_INET6;
    cr_assert_eq(inet_pton(AF_INET6, "2001:db8:1:2::", &a.in6.sin6_addr), 1);
    memcpy(&a.in6.sin6_addr.s6_addr[8], &iid, 8);
    a.in6.sin6_port = (uint16_t)(0x5a5a ^ i);
    return a;
}

static union turn_addr v4(const char *text)
{
    union turn_addr a;

    cr_assert_eq(turn_addr_parse(&a, text, 0), 0, "bad test address %s", text);
    return a;
}

static void key_bytes(struct turn_siphash_key *key, uint8_t first)
{
    uint8_t k[TURN_SIPHASH_KEY_LEN];

    for (int i = 0; i < TURN_SIPHASH_KEY_LEN; i++) {
        k[i] = (uint8_t)(first + i);
    }
    turn_siphash_key_set(key, k);
}

/* Longest chain when buckets[i] = hash(tuple i) & (TABLE_BUCKETS - 1). */
static unsigned longest_chain(const uint32_t *buckets)
{
    unsigned count[TABLE_BUCKETS] = {0}, longest = 0;

    for (unsigned i = 0; i < N_TUPLES; i++) {
        unsigned c = ++count[buckets[i] & (TABLE_BUCKETS - 1)];
        longest = c > longest ? c : longest;
    }
    return longest;
}

Test(addr_hash, crafted_tuples_collide_under_the_old_hash)
{
    uint32_t b[N_TUPLES];

    /* every seed: the attack needs no knowledge of it */
    for (uint64_t seed = 1; seed < 0x10000000000ull; seed *= 977) {
        for (unsigned i = 0; i < N_TUPLES; i++) {
            union turn_addr a = crafted(i);
            b[i] = old_hash(&a, seed);
        }
        cr_assert_eq(longest_chain(b), N_TUPLES, "seed %llx", (unsigned long long)seed);
    }
}

Test(addr_hash, crafted_tuples_spread_under_the_keyed_hash)
{
    struct turn_siphash_key k1, k2;
    uint32_t b1[N_TUPLES], b2[N_TUPLES];
    unsigned moved = 0;

    /* fixed keys keep the test deterministic; random ones are below */
    key_bytes(&k1, 0x00);
    key_bytes(&k2, 0x80);
    for (unsigned i = 0; i < N_TUPLES; i++) {
        union turn_addr a = crafted(i);
        b1[i] = (uint32_t)turn_addr_hash(&a, &k1);
        b2[i] = (uint32_t)turn_addr_hash(&a, &k2);
        moved += (b1[i] & (TABLE_BUCKETS - 1)) != (b2[i] & (TABLE_BUCKETS - 1));
    }
    cr_assert_lt(longest_chain(b1), MAX_CHAIN);
    cr_assert_lt(longest_chain(b2), MAX_CHAIN);
    /* a different key puts (nearly) every tuple in a different bucket */
    cr_assert_gt(moved, N_TUPLES * 95 / 100, "only %u of %u tuples moved", moved, N_TUPLES);
}

/* The IPv4 form: one address, 1,000 consecutive ports. */
Test(addr_hash, one_ipv4_address_many_ports_spread)
{
    struct turn_siphash_key key;
    uint32_t b[N_TUPLES];

    key_bytes(&key, 0x40);
    for (unsigned i = 0; i < N_TUPLES; i++) {
        union turn_addr a = v4("198.51.100.7");
        turn_addr_set_port(&a, (uint16_t)(40000 + i));
        b[i] = (uint32_t)turn_addr_hash(&a, &key);
    }
    cr_assert_lt(longest_chain(b), MAX_CHAIN);
}

/* Random keys (as the tables use) give different buckets. */
Test(addr_hash, random_keys_give_different_buckets)
{
    struct turn_siphash_key k1, k2;
    unsigned moved = 0;

    cr_assert_eq(turn_siphash_key_random(&k1), 0);
    cr_assert_eq(turn_siphash_key_random(&k2), 0);
    for (unsigned i = 0; i < N_TUPLES; i++) {
        union turn_addr a = crafted(i);
        moved += ((turn_addr_hash(&a, &k1) ^ turn_addr_hash(&a, &k2)) & (TABLE_BUCKETS - 1)) != 0;
    }
    cr_assert_gt(moved, N_TUPLES * 95 / 100);
}

/* The hash is SipHash-1-3 of family byte, port and address as they travel
 * (on a little-endian host, where the IPv4 path packs the same bytes). */
Test(addr_hash, is_siphash13_of_the_tuple)
{
    struct turn_siphash_key key;
    union turn_addr a4 = v4("192.0.2.1:3478"), a6;
    uint8_t m4[7] = {4, 0x0d, 0x96, 192, 0, 2, 1}, m6[19] = {6, 0x0d, 0x96};

    key_bytes(&key, 0x00);
    cr_assert_eq(turn_addr_parse(&a6, "[2001:db8::1]:3478", 0), 0);
    memcpy(&m6[3], &a6.in6.sin6_addr, 16);
    if (htons(1) != 1) {
        cr_assert_eq(turn_addr_hash(&a4, &key), turn_siphash13(&key, m4, sizeof(m4)));
    }
    cr_assert_eq(turn_addr_hash(&a6, &key), turn_siphash13(&key, m6, sizeof(m6)));
    /* the family takes part: v4 0.0.0.0:0 and v6 :: differ */
    union turn_addr z4, z6;
    cr_assert_eq(turn_addr_parse(&z4, "0.0.0.0", 0), 0);
    cr_assert_eq(turn_addr_parse(&z6, "::", 0), 0);
    cr_assert_neq(turn_addr_hash(&z4, &key), turn_addr_hash(&z6, &key));
}

Test(addr_hash, port_and_address_matter_scope_does_not)
{
    struct turn_siphash_key key;
    union turn_addr a = v4("203.0.113.5:1000"), b = v4("203.0.113.5:1001"),
                    c = v4("203.0.113.6:1000"), d6, e6;

    key_bytes(&key, 0x11);
    cr_assert_neq(turn_addr_hash(&a, &key), turn_addr_hash(&b, &key));
    cr_assert_neq(turn_addr_hash(&a, &key), turn_addr_hash(&c, &key));
    cr_assert_eq(turn_addr_parse(&d6, "[fe80::1]:5", 0), 0);
    e6 = d6;
    e6.in6.sin6_scope_id = 3; /* turn_addr_equal ignores it: the hash must too */
    cr_assert_eq(turn_addr_hash(&d6, &key), turn_addr_hash(&e6, &key));
}

Test(addr, port_helpers)
{
    union turn_addr a = v4("192.0.2.1:3478"), b;

    cr_assert_eq(turn_addr_port(&a), 3478);
    turn_addr_set_port(&a, 5349);
    cr_assert_eq(turn_addr_port(&a), 5349);
    cr_assert_eq(turn_addr_len(&a), sizeof(struct sockaddr_in));
    cr_assert_eq(turn_addr_parse(&b, "[::1]:7", 0), 0);
    cr_assert_eq(turn_addr_port(&b), 7);
    turn_addr_set_port(&b, 8);
    cr_assert_eq(turn_addr_port(&b), 8);
    cr_assert_eq(turn_addr_len(&b), sizeof(struct sockaddr_in6));
    memset(&b, 0, sizeof(b));
    cr_assert_eq(turn_addr_len(&b), 0);
}

/* turn_addr_equal compares family and port as one word: every field still
 * counts, the scope and flow label do not. */
Test(addr, equal)
{
    union turn_addr a = v4("192.0.2.1:3478"), b = v4("192.0.2.1:3478"), c, d;

    cr_assert(turn_addr_equal(&a, &b));
    turn_addr_set_port(&b, 3479);
    cr_assert_not(turn_addr_equal(&a, &b));
    b = v4("192.0.2.2:3478");
    cr_assert_not(turn_addr_equal(&a, &b));
    cr_assert_eq(turn_addr_parse(&c, "[::ffff:192.0.2.1]:3478", 0), 0);
    cr_assert_not(turn_addr_equal(&a, &c), "another family");
    cr_assert_eq(turn_addr_parse(&d, "[::ffff:192.0.2.1]:3478", 0), 0);
    d.in6.sin6_scope_id = 7;
    d.in6.sin6_flowinfo = 9;
    cr_assert(turn_addr_equal(&c, &d));
    d.in6.sin6_addr.s6_addr[15] ^= 1;
    cr_assert_not(turn_addr_equal(&c, &d));
    memset(&c, 0, sizeof(c));
    memset(&d, 0, sizeof(d));
    cr_assert_not(turn_addr_equal(&c, &d), "no family: never equal");
}
