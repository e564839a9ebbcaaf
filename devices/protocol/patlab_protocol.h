/* patlab_protocol.h: patlab's serial wire protocol, once, for the host, the device emulator,
 * the browser (WebAssembly, Web Serial) and device firmware. The specification, with the
 * reasons behind it, is docs/protocol.md; this header is its implementation's index.
 *
 * C99, no heap, nothing from libc but memcpy/memset/strlen: it must build for an 8-bit AVR as
 * well. Every buffer is the caller's. Define PL_NO_TEXT to leave ERROR texts out (on AVR,
 * string literals take RAM).
 *
 *   On the wire       0x00 | COBS(type u8, seq u16, payload, crc16 u16) | 0x00
 *                     all multi-byte fields little-endian; CRC-16/CCITT-FALSE over type..payload
 *
 *   pl_crc16            the checksum (known answer: "123456789" -> 0x29B1)
 *   pl_writer_*         builds one frame straight into its wire form (COBS on the fly)
 *   pl_put_* / pl_get_* fields, and samples in a sample format (float32, q16, float64)
 *   pl_reader_*         reads a frame's payload with bounds checks (errors are sticky)
 *   pl_parser_*         the receiver: one byte at a time, resynchronises at the next 0x00
 *   pl_cobs_encode/decode  whole frames at once (e.g. frames split out by JavaScript)
 *   pl_describe         the device's self-description, answer to HELLO
 *   pl_device_*         the device side of a session: HELLO, RUN_BATCH through a callback,
 *                       RESET, PING, errors, and the replay of its last reply to a retried
 *                       request (same sequence number and checksum) instead of a second run
 */
#ifndef PATLAB_PROTOCOL_H
#define PATLAB_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The one protocol version this code speaks (docs/protocol.md, "Handshake, sessions, versions"). */
#define PL_VERSION 1

#define PL_DELIMITER 0x00
#define PL_HEADER_SIZE 3 /* type u8, seq u16 */
#define PL_CRC_SIZE 2
#define PL_FRAME_OVERHEAD (PL_HEADER_SIZE + PL_CRC_SIZE)
/* A body (header + payload + CRC) is at most this long: max_frame is a u16 in DESCRIBE. */
#define PL_MAX_BODY 65535u
/* Wire bytes of a body of n bytes, worst case: two delimiters, one COBS code byte per 254
 * bytes started, and the final code byte. */
#define PL_WIRE_SIZE(n) ((size_t)(n) + (size_t)(n) / 254u + 3u)
#define PL_NAME_MAX 32 /* bytes of a device name, UTF-8, not terminated on the wire */
#define PL_PING_MAX 64 /* bytes of a PING payload a device must echo */
#define PL_TEXT_MAX 64 /* bytes of an ERROR's text */

/* Message types. Replies are the request's type with the high bit set; ERROR answers any. */
enum pl_type {
  PL_HELLO = 0x01,     /* host: min_version u8, max_version u8 */
  PL_RUN_BATCH = 0x02, /* host: format u8, count u16, theta[P], x[I x count] */
  PL_RESET = 0x03,     /* host: (empty) */
  PL_PING = 0x04,      /* host: 0..PL_PING_MAX bytes, echoed */
  PL_DESCRIBE = 0x81,  /* device: see pl_describe */
  PL_RESULT = 0x82,    /* device: format u8, count u16, y[O x count] */
  PL_RESET_OK = 0x83,  /* device: (empty) */
  PL_PONG = 0x84,      /* device: the PING payload */
  PL_ERROR = 0xFF      /* device: code u8, request type u8, text length u8, text */
};

/* Error codes carried by ERROR. */
enum pl_error {
  PL_OK = 0,
  PL_ERR_VERSION = 1,      /* no common protocol version */
  PL_ERR_UNKNOWN_TYPE = 2, /* a request type this device does not know */
  PL_ERR_MALFORMED = 3,    /* payload of the wrong length or layout */
  PL_ERR_FORMAT = 4,       /* a sample format the device does not offer */
  PL_ERR_TOO_LARGE = 5,    /* more samples than max_batch, or a reply beyond max_frame */
  PL_ERR_BAD_VALUE = 6,    /* NaN, infinity, or a value outside the declared range */
  PL_ERR_NO_SESSION = 7,   /* RUN_BATCH before HELLO (e.g. the device restarted) */
  PL_ERR_DEVICE = 8,       /* the hardware failed to run the batch */
  PL_ERR_BUSY = 9          /* the device cannot take a request now; try again */
};
/* A short English name for an error code ("unsupported sample format"). */
const char* pl_error_name(uint8_t code);

/* Sample formats. DESCRIBE offers a set of them as a bit mask, bit (1 << format). */
enum pl_format {
  PL_FMT_F32 = 1, /* IEEE-754 binary32 */
  PL_FMT_Q16 = 2, /* int16: lo + (raw + 32768) (hi - lo) / 65535, over the declared range */
  PL_FMT_F64 = 3  /* IEEE-754 binary64; only where C's double is 64 bits (not on AVR) */
};
#define PL_FORMAT_BIT(f) ((uint8_t)(1u << (f)))
/* Bytes per value: 4, 2, 8; 0 for an unknown format (or float64 where double is 32 bits).
 * Sizes are computed in uint32_t (saturating) because size_t is 16 bits on AVR. */
size_t pl_sample_size(uint8_t format);

/* ---- checksum ------------------------------------------------------------------------- */

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor), continued from
 * `crc` (start with 0xFFFF). */
uint16_t pl_crc16(uint16_t crc, const uint8_t* data, size_t n);

/* ---- writing a frame ------------------------------------------------------------------ */

/* Builds one frame directly in its wire form: every put updates the CRC and COBS-encodes on
 * the fly, so no second buffer is needed. A put that would not fit sets `error` and is
 * ignored, as is everything after it; pl_writer_end then returns 0. */
typedef struct {
  uint8_t* out;
  size_t cap;
  size_t pos;      /* next free byte of out */
  size_t code_pos; /* where the current COBS block's code byte goes */
  uint8_t code;    /* 1 + data bytes in the current block */
  uint16_t crc;
  size_t body; /* body bytes so far */
  int error;
} pl_writer;

void pl_writer_begin(pl_writer* w, uint8_t* out, size_t cap, uint8_t type, uint16_t seq);
/* Appends the CRC and the closing delimiter; returns the wire length, or 0 on overflow. */
size_t pl_writer_end(pl_writer* w);

void pl_put_u8(pl_writer* w, uint8_t v);
void pl_put_u16(pl_writer* w, uint16_t v);
void pl_put_u32(pl_writer* w, uint32_t v);
void pl_put_f32(pl_writer* w, float v);
void pl_put_bytes(pl_writer* w, const uint8_t* p, size_t n);
/* One value in `format`. q16 needs a finite range lo < hi and saturates outside it; NaN and
 * infinities are an error in q16 (they have no code) and pass through in float formats. */
void pl_put_sample(pl_writer* w, uint8_t format, double v, float lo, float hi);

/* ---- reading a payload ---------------------------------------------------------------- */

/* Reads fields in order; reading past the end sets `error` and returns zeros from then on. */
typedef struct {
  const uint8_t* p;
  size_t len;
  size_t pos;
  int error;
} pl_reader;

void pl_reader_init(pl_reader* r, const uint8_t* p, size_t len);
/* 1 if every byte was read and nothing failed: how a decoder checks a payload's length. */
int pl_reader_done(const pl_reader* r);
uint8_t pl_get_u8(pl_reader* r);
uint16_t pl_get_u16(pl_reader* r);
uint32_t pl_get_u32(pl_reader* r);
float pl_get_f32(pl_reader* r);
void pl_get_bytes(pl_reader* r, uint8_t* out, size_t n);
double pl_get_sample(pl_reader* r, uint8_t format, float lo, float hi);

/* ---- receiving frames ----------------------------------------------------------------- */

/* A checked frame. payload points into the parser's buffer: valid until its next push. */
typedef struct {
  uint8_t type;
  uint16_t seq;
  const uint8_t* payload;
  size_t len;   /* payload bytes */
  uint16_t crc; /* the frame's checksum: identifies a request for replay */
} pl_frame;

/* What one pushed byte completed. Errors mean a frame was thrown away; the parser is already
 * waiting for the next one, so the caller only counts them. */
enum pl_rx {
  PL_RX_NONE = 0,      /* nothing complete yet (or an empty frame between delimiters) */
  PL_RX_FRAME = 1,     /* *frame holds a checked frame */
  PL_RX_BAD_CRC = -1,  /* checksum mismatch */
  PL_RX_BAD_COBS = -2, /* a delimiter inside a COBS block: bytes were lost */
  PL_RX_SHORT = -3,    /* fewer bytes than a header and a checksum */
  PL_RX_TOO_LONG = -4  /* longer than the buffer: skipped up to the next delimiter */
};

typedef struct {
  uint8_t* buf;
  size_t cap;
  size_t len;
  uint8_t code; /* code byte of the current COBS block */
  uint8_t left; /* data bytes still to come in it; 0: the next byte is a code byte */
  uint8_t started;
  uint8_t overflow;
} pl_parser;

/* buf holds one decoded body; frames longer than cap are refused (PL_RX_TOO_LONG). */
void pl_parser_init(pl_parser* p, uint8_t* buf, size_t cap);
/* Forgets any partial frame, e.g. after reopening a port. */
void pl_parser_reset(pl_parser* p);
int pl_parser_push(pl_parser* p, uint8_t byte, pl_frame* frame);

/* Whole-buffer COBS, for frames split at the delimiters by someone else. encode writes
 * 0x00 COBS(in) 0x00 and returns its length; decode takes the bytes between two delimiters
 * (none included) and returns the body's length. Both return 0 if out is too small or the
 * input is not valid COBS. */
size_t pl_cobs_encode(const uint8_t* in, size_t n, uint8_t* out, size_t cap);
size_t pl_cobs_decode(const uint8_t* in, size_t n, uint8_t* out, size_t cap);
/* Checks a decoded body (length, CRC) and fills *frame pointing into it; 1 on success. */
int pl_frame_check(const uint8_t* body, size_t n, pl_frame* frame);

/* ---- the handshake -------------------------------------------------------------------- */

/* A run of `count` consecutive parameters sharing one range [lo, hi]. */
typedef struct {
  uint16_t count;
  float lo, hi;
} pl_range_run;

/* DESCRIBE: what the device is and what it accepts. Payload, in this order:
 *   version u8, formats u8, input_size u16, param_size u16, output_size u16, max_batch u16,
 *   max_frame u16, boot_id u32, input_min f32, input_max f32, output_min f32, output_max f32,
 *   run count u16, runs (count u16, lo f32, hi f32)..., name length u8, name bytes.
 * Ranges may be infinite (IEEE infinities); q16 is only offered where they are finite. */
typedef struct {
  uint8_t version;
  uint8_t formats;      /* PL_FORMAT_BIT mask */
  uint16_t input_size;  /* I: values per sample in */
  uint16_t param_size;  /* P: parameters, shared by every sample of a batch */
  uint16_t output_size; /* O: values per sample out */
  uint16_t max_batch;   /* samples per RUN_BATCH, >= 1 */
  uint16_t max_frame;   /* largest body (header + payload + CRC) sent or accepted, bytes */
  uint32_t boot_id;     /* changes whenever the device restarts: its state is gone */
  float input_min, input_max, output_min, output_max;
  const pl_range_run* runs; /* parameter ranges, run-length coded; counts sum to P */
  uint16_t run_count;
  char name[PL_NAME_MAX + 1]; /* NUL-terminated here, not on the wire */
} pl_describe;

void pl_put_describe(pl_writer* w, const pl_describe* d);
/* Reads a DESCRIBE payload; runs go to the caller's array (cap entries) and d->runs points
 * at it. Returns PL_OK, PL_ERR_MALFORMED (bad layout, counts not summing to P, too many
 * runs for cap) or PL_ERR_VERSION (a version this code cannot read). */
uint8_t pl_get_describe(pl_reader* r, pl_describe* d, pl_range_run* runs, uint16_t cap);
/* The range of parameter i; 0 if i is out of bounds. */
int pl_param_range(const pl_describe* d, uint16_t i, float* lo, float* hi);

/* Body sizes of a RUN_BATCH request and of its RESULT for `count` samples; and the largest
 * count both of which fit max_frame and max_batch (0 if not even one sample fits). */
uint32_t pl_request_body(const pl_describe* d, uint8_t format, uint32_t count);
uint32_t pl_result_body(const pl_describe* d, uint8_t format, uint32_t count);
uint16_t pl_batch_limit(const pl_describe* d, uint8_t format);

/* ---- the device side ------------------------------------------------------------------ */

/* Runs one batch. `in` is positioned at theta (P values), then x (I x count, sample after
 * sample) in `format`; write O x count values to `out` in the same format. Return PL_OK or
 * an error code; *text may point at a static explanation sent with the ERROR. */
typedef uint8_t (*pl_run_fn)(void* ctx, const pl_describe* d, uint8_t format, uint16_t count,
                             pl_reader* in, pl_writer* out, const char** text);
/* Puts the hardware in its idle state (may be null). */
typedef void (*pl_reset_fn)(void* ctx);

typedef struct {
  const pl_describe* desc;
  pl_run_fn run;
  pl_reset_fn reset;
  void* ctx;
  pl_parser parser;
  uint8_t* tx; /* the last reply, wire form: replayed for a retried request */
  size_t tx_cap;
  size_t tx_len;
  uint16_t last_seq;
  uint16_t last_crc;
  uint8_t has_last; /* tx holds the reply to (last_seq, last_crc) */
  uint8_t session;  /* a HELLO was answered since start */
  uint32_t requests, replays, bad_frames;
} pl_device;

/* rx: at least desc->max_frame bytes; tx: at least PL_WIRE_SIZE(desc->max_frame). */
void pl_device_init(pl_device* dev, const pl_describe* desc, pl_run_fn run, pl_reset_fn reset,
                    void* ctx, uint8_t* rx, size_t rx_cap, uint8_t* tx, size_t tx_cap);
/* Feeds one received byte; returns the length of a reply now waiting in dev->tx, or 0. */
size_t pl_device_push(pl_device* dev, uint8_t byte);
/* Handles one checked request frame (for callers that parse themselves); same return. */
size_t pl_device_handle(pl_device* dev, const pl_frame* request);

#ifdef __cplusplus
}
#endif

#endif /* PATLAB_PROTOCOL_H */
