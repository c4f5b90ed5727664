/* Unit tests for blindrelay-bench's ChannelData framing and TCP stream
 * splitting (bench_frame.c; RFC 8656 12.4, 12.5). */
#include <criterion/criterion.h>
#include <string.h>

#include "bench.h"
#include "turn/stun_msg.h"

Test(frame, datagram_is_not_padded)
{
    uint8_t f[64];

    cr_assert_eq(bc_frame_channel(f, 0x4000, 5, false), 9);
    cr_assert_eq(f[0], 0x40);
    cr_assert_eq(f[1], 0x00);
    cr_assert_eq(f[2], 0);
    cr_assert_eq(f[3], 5);
}

Test(frame, stream_is_padded_to_four_with_zeros)
{
    uint8_t f[64];

    for (size_t len = 0; len < 12; len++) {
        size_t got;

        memset(f, 0xee, sizeof(f));
        got = bc_frame_channel(f, 0x4abc, len, true);
        cr_assert_eq(got % 4, 0);
        cr_assert_geq(got, 4 + len);
        cr_assert_lt(got, 4 + len + 4);
        for (size_t i = 4 + len; i < got; i++) {
            cr_assert_eq(f[i], 0);
        }
        cr_assert_eq(f[3], len); /* the length excludes the padding */
    }
}

static size_t put_stun(uint8_t *p, uint16_t body)
{
    memset(p, 0, STUN_HEADER_LEN + body);
    p[0] = 0x01;
    p[1] = 0x01;
    p[2] = (uint8_t)(body >> 8);
    p[3] = (uint8_t)body;
    return STUN_HEADER_LEN + body;
}

Test(frame, splits_mixed_stream)
{
    uint8_t s[256];
    size_t len = 0, plen;
    enum bc_frame_kind kind;
    long n;

    len += bc_frame_channel(s + len, 0x4000, 5, true); /* 12 */
    len += put_stun(s + len, 8);                       /* 28 */
    len += bc_frame_channel(s + len, 0x4001, 8, true); /* 12 */
    cr_assert_eq(len, 52);

    n = bc_frame_next(s, len, &kind, &plen);
    cr_assert_eq(n, 12);
    cr_assert_eq(kind, BC_FRAME_CHANNEL);
    cr_assert_eq(plen, 5);
    n = bc_frame_next(s + 12, len - 12, &kind, &plen);
    cr_assert_eq(n, 28);
    cr_assert_eq(kind, BC_FRAME_STUN);
    n = bc_frame_next(s + 40, len - 40, &kind, &plen);
    cr_assert_eq(n, 12);
    cr_assert_eq(plen, 8);
}

Test(frame, partial_frames_wait_for_more)
{
    uint8_t s[64];
    size_t full = bc_frame_channel(s, 0x4000, 5, true), plen;
    enum bc_frame_kind kind;

    for (size_t have = 0; have < full; have++) {
        cr_assert_eq(bc_frame_next(s, have, &kind, &plen), 0, "have %zu", have);
    }
    full = put_stun(s, 12);
    for (size_t have = 0; have < full; have++) {
        cr_assert_eq(bc_frame_next(s, have, &kind, &plen), 0, "have %zu", have);
    }
    cr_assert_eq(bc_frame_next(s, full, &kind, &plen), (long)full);
}

Test(frame, garbage_is_refused)
{
    uint8_t s[8] = {0x80, 0, 0, 4};
    size_t plen;
    enum bc_frame_kind kind;

    cr_assert_eq(bc_frame_next(s, sizeof(s), &kind, &plen), -1);
    s[0] = 0x01;
    s[3] = 3; /* STUN length not a multiple of 4 */
    cr_assert_eq(bc_frame_next(s, sizeof(s), &kind, &plen), -1);
}

Test(frame, agrees_with_the_codec)
{
    uint8_t s[64];
    size_t flen, plen;
    uint16_t ch, pl;
    enum bc_frame_kind kind;

    for (size_t len = 1; len < 20; len++) {
        size_t got = bc_frame_channel(s, 0x4123, len, true);

        cr_assert_eq(turn_channel_decode(s, got, true, &ch, &pl, &flen), 0);
        cr_assert_eq(ch, 0x4123);
        cr_assert_eq(pl, len);
        cr_assert_eq(flen, got);
        cr_assert_eq(bc_frame_next(s, got, &kind, &plen), (long)got);
    }
}
