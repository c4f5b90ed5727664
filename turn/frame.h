/* Stream framing for TURN over TCP and TLS (RFC 8656 12.5): STUN messages
 * and ChannelData frames lie back to back on one byte stream, and the first
 * four bytes of each say how long it is. Sans-I/O. */
#ifndef TURN_FRAME_H
#define TURN_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a frame that give its length (both headers start the same way). */
#define TURN_FRAME_HEADER_LEN 4
/* Longest frame: a STUN header and a length field of 0xFFFC. */
#define TURN_FRAME_MAX (20 + 0xFFFC)

/* Length of the frame at the head of a stream, from the len bytes there:
 * STUN (first byte 0-3) is 20 + its length field, which must be a multiple
 * of 4 (RFC 8489 5); ChannelData is 4 + its length padded to a multiple of 4
 * (RFC 8656 12.5). rfc5766_channels: first bytes 0x50-0x7F are ChannelData
 * too. Returns 0 with *frame_len set (it may exceed len: the rest has not
 * arrived yet), -EAGAIN when fewer than 4 bytes are there, or -EBADMSG when
 * the bytes start neither: the stream has lost its framing. */
int turn_frame_len(const uint8_t *buf, size_t len, bool rfc5766_channels, size_t *frame_len);

/* Writes the ChannelData header (RFC 8656 12.4) for the payload_len bytes
 * already at frame + 4; on a stream also zeroes the padding to 4 after
 * them. Returns the frame length, padding included. frame holds room for it. */
size_t turn_frame_channel(uint8_t *frame, uint16_t channel, uint16_t payload_len, bool stream);

#endif
