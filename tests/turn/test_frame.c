/* Stream framing (turn/frame.c, RFC 8656 12.4, 12.5): the length of the
 * frame at the head of a TCP/TLS stream, and ChannelData headers with and
 * without the stream's padding. */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "turn/frame.h"
#include "turn/stun_msg.h"

static size_t put_stun(uint8_t *p, uint16_t body)
{
    memset(p, 0, STUN_HEADER_LEN + body);
    p[0] = 0x01;
    p[1] = 0x01;
    p[2] = (uint8_t)(body >> 8);
    p[3] = (uint8_t)body;
    return STUN_HEADER_LEN + body;
}

Test(frame, stun_is_header_plus_length)
{
    uint8_t s[64];
    size_t n = 0;

    put_stun(s, 8);
    cr_assert_eq(turn_frame_len(s, 28, false, &n), 0);
    cr_assert_eq(n, 28);
    /* the length is known from 4 bytes, before the rest arrives */
    cr_assert_eq(turn_frame_len(s, 4, false, &n), 0);
    cr_assert_eq(n, 28);
}

Test(frame, channel_data_is_padded_to_four)
{
    uint8_t s[16] = {0x40, 0x00, 0, 0};
    size_t n;

    for (unsigned plen = 0; plen < 12; plen++) {
        s[3] = (uint8_t)plen;
        cr_assert_eq(turn_frame_len(s, 4, false, &n), 0);
        cr_assert_eq(n, 4 + (plen + 3) / 4 * 4, "payload %u: frame %zu", plen, n);
    }
}

Test(frame, short_input_needs_more)
{
    uint8_t stun[4] = {0x00, 0x01, 0x00, 0x08}, chan[4] = {0x40, 0x01, 0x00, 0x05};
    size_t n = 1234;

    for (size_t have = 0; have < 4; have++) {
        cr_assert_eq(turn_frame_len(stun, have, false, &n), -EAGAIN, "have %zu", have);
        cr_assert_eq(turn_frame_len(chan, have, false, &n), -EAGAIN, "have %zu", have);
    }
    cr_assert_eq(n, 1234); /* untouched */
}

Test(frame, garbage_first_byte_is_refused)
{
    uint8_t s[4] = {0, 0, 0, 4};
    size_t n;

    for (unsigned b = 0; b < 256; b++) {
        bool stun = b <= 3, chan = b >= 0x40 && b <= 0x4F, chan5766 = b >= 0x40 && b <= 0x7F;

        s[0] = (uint8_t)b;
        cr_assert_eq(turn_frame_len(s, 4, false, &n), stun || chan ? 0 : -EBADMSG, "byte %u", b);
        cr_assert_eq(turn_frame_len(s, 4, true, &n), stun || chan5766 ? 0 : -EBADMSG, "byte %u", b);
        /* known from the first byte alone */
        cr_assert_eq(turn_frame_len(s, 1, false, &n), stun || chan ? -EAGAIN : -EBADMSG);
    }
}

Test(frame, stun_length_not_multiple_of_four_is_refused)
{
    uint8_t s[4] = {0x01, 0x01, 0x00, 0x03};
    size_t n;

    cr_assert_eq(turn_frame_len(s, 4, false, &n), -EBADMSG);
    s[3] = 0x06;
    cr_assert_eq(turn_frame_len(s, 4, false, &n), -EBADMSG);
}

Test(frame, largest_frames)
{
    uint8_t stun[4] = {0x01, 0x13, 0xFF, 0xFC}, chan[4] = {0x4F, 0xFF, 0xFF, 0xFF};
    size_t n;

    cr_assert_eq(turn_frame_len(stun, 4, false, &n), 0);
    cr_assert_eq(n, TURN_FRAME_MAX);
    cr_assert_eq(n, 20 + 65532);
    cr_assert_eq(turn_frame_len(chan, 4, false, &n), 0);
    cr_assert_eq(n, 4 + 65536); /* 65535 bytes padded */
    cr_assert_leq(n, TURN_FRAME_MAX);
    chan[0] = 0x7F;
    cr_assert_eq(turn_frame_len(chan, 4, true, &n), 0);
    cr_assert_eq(n, 4 + 65536);
}

Test(frame, splits_a_mixed_stream)
{
    uint8_t s[256];
    size_t len = 0, n, off;

    memset(s + 4, 0xaa, 5);
    len += turn_frame_channel(s, 0x4000, 5, true); /* 12 */
    len += put_stun(s + len, 8);                   /* 28 */
    memset(s + len + 4, 0xbb, 8);
    len += turn_frame_channel(s + len, 0x4001, 8, true); /* 12 */
    cr_assert_eq(len, 52);

    const size_t want[] = {12, 28, 12};
    off = 0;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(turn_frame_len(s + off, len - off, false, &n), 0);
        cr_assert_eq(n, want[i], "frame %d", i);
        off += n;
    }
    cr_assert_eq(off, len);
    cr_assert_eq(turn_frame_len(s + off, 0, false, &n), -EAGAIN);
}

Test(frame, datagram_channel_data_is_not_padded)
{
    uint8_t f[64];

    memset(f, 0xee, sizeof(f));
    cr_assert_eq(turn_frame_channel(f, 0x4000, 5, false), 9);
    cr_assert_eq(f[0], 0x40);
    cr_assert_eq(f[1], 0x00);
    cr_assert_eq(f[2], 0);
    cr_assert_eq(f[3], 5);
    cr_assert_eq(f[9], 0xee); /* nothing written past the payload */
}

Test(frame, stream_channel_data_is_padded_with_zeros)
{
    uint8_t f[64];

    for (uint16_t len = 0; len < 12; len++) {
        size_t got;

        memset(f, 0xee, sizeof(f));
        got = turn_frame_channel(f, 0x4abc, len, true);
        cr_assert_eq(got % 4, 0);
        cr_assert_geq(got, 4u + len);
        cr_assert_lt(got, 4u + len + 4);
        for (size_t i = 4u + len; i < got; i++) {
            cr_assert_eq(f[i], 0);
        }
        cr_assert_eq(f[got], 0xee);
        cr_assert_eq(f[3], len); /* the length excludes the padding */
    }
}

/* What the writer makes, the codec and the framer read back the same. */
Test(frame, agrees_with_the_codec)
{
    uint8_t s[64];
    size_t flen, n;
    uint16_t ch, pl;

    for (uint16_t len = 0; len < 20; len++) {
        size_t got = turn_frame_channel(s, 0x4123, len, true);

        cr_assert_eq(turn_channel_decode(s, got, true, &ch, &pl, &flen), 0);
        cr_assert_eq(ch, 0x4123);
        cr_assert_eq(pl, len);
        cr_assert_eq(flen, got);
        cr_assert_eq(turn_frame_len(s, got, false, &n), 0);
        cr_assert_eq(n, got);
    }
}
