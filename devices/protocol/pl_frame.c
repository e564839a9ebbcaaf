/* pl_frame.c: the framing layer of patlab's serial protocol: checksum, COBS, the frame
 * writer, the payload reader and the byte-at-a-time parser. See docs/protocol.md.
 *
 * Why COBS: after encoding, 0x00 appears only as the frame delimiter. A receiver that lost
 * its place (garbage on the line, a dropped byte, a device that restarted mid-frame) is back
 * in step at the next 0x00, whatever came before; no sync pattern can be imitated by
 * payload data, and the cost is one byte per 254 plus the delimiters. */
#include <string.h>

#include "patlab_protocol.h"

uint16_t pl_crc16(uint16_t crc, const uint8_t* data, size_t n) {
  /* Bit by bit rather than from a 512-byte table: flash is scarce on small devices, and at
   * serial speeds eight shifts per byte cost nothing. */
  size_t i;
  int b;
  for (i = 0; i < n; ++i) {
    crc ^= (uint16_t)((uint16_t)data[i] << 8);
    for (b = 0; b < 8; ++b)
      crc = (uint16_t)((crc & 0x8000u) ? ((unsigned)crc << 1) ^ 0x1021u : (unsigned)crc << 1);
  }
  return crc;
}

/* ---- writer: COBS on the fly ----------------------------------------------------------
 * COBS replaces each 0x00 by the distance to the next one: the body is cut into blocks, each
 * led by a code byte = 1 + its count of non-zero bytes, and an implied 0x00 follows every
 * block but a full one (code 0xFF) and the last. The writer reserves the code byte when a
 * block opens and fills it in when the block closes, so it never needs to look ahead. */

/* Is there room for n more bytes, keeping one for the closing delimiter? */
static int room(pl_writer* w, size_t n) {
  if (w->error || w->pos + n + 1 > w->cap) {
    w->error = 1;
    return 0;
  }
  return 1;
}

static void put_encoded(pl_writer* w, uint8_t b) {
  if (b == 0) {
    if (!room(w, 1)) return;
    w->out[w->code_pos] = w->code; /* close the block; its implied zero is this byte */
    w->code_pos = w->pos++;
    w->code = 1;
    return;
  }
  if (!room(w, w->code == 0xFE ? 2 : 1)) return;
  w->out[w->pos++] = b;
  if (++w->code == 0xFF) { /* a full block carries no implied zero */
    w->out[w->code_pos] = 0xFF;
    w->code_pos = w->pos++;
    w->code = 1;
  }
}

static void put_body(pl_writer* w, uint8_t b) {
  if (w->error) return;
  if (w->body >= PL_MAX_BODY - PL_CRC_SIZE) { /* max_frame is a u16 on the wire */
    w->error = 1;
    return;
  }
  w->crc = pl_crc16(w->crc, &b, 1);
  ++w->body;
  put_encoded(w, b);
}

static void open_encoding(pl_writer* w, uint8_t* out, size_t cap) {
  w->out = out;
  w->cap = cap;
  w->error = cap < 3; /* delimiter, first code byte, closing delimiter */
  w->pos = 2;
  w->code_pos = 1;
  w->code = 1;
  w->crc = 0xFFFFu;
  w->body = 0;
  /* A leading delimiter ends whatever junk preceded this frame on the line, so the junk
   * costs only itself and never the frame that follows it. */
  if (!w->error) out[0] = PL_DELIMITER;
}

static size_t close_encoding(pl_writer* w) {
  if (w->error) return 0;
  w->out[w->code_pos] = w->code;
  w->out[w->pos++] = PL_DELIMITER;
  return w->pos;
}

void pl_writer_begin(pl_writer* w, uint8_t* out, size_t cap, uint8_t type, uint16_t seq) {
  open_encoding(w, out, cap);
  put_body(w, type);
  put_body(w, (uint8_t)(seq & 0xFFu));
  put_body(w, (uint8_t)(seq >> 8));
}

size_t pl_writer_end(pl_writer* w) {
  const uint16_t crc = w->crc;
  if (w->error) return 0;
  put_encoded(w, (uint8_t)(crc & 0xFFu));
  put_encoded(w, (uint8_t)(crc >> 8));
  w->body += PL_CRC_SIZE;
  return close_encoding(w);
}

void pl_put_u8(pl_writer* w, uint8_t v) { put_body(w, v); }

void pl_put_u16(pl_writer* w, uint16_t v) {
  put_body(w, (uint8_t)(v & 0xFFu));
  put_body(w, (uint8_t)(v >> 8));
}

void pl_put_u32(pl_writer* w, uint32_t v) {
  int i;
  for (i = 0; i < 4; ++i) put_body(w, (uint8_t)((v >> (8 * i)) & 0xFFu));
}

void pl_put_f32(pl_writer* w, float v) {
  uint32_t bits;
  memcpy(&bits, &v, 4);
  pl_put_u32(w, bits);
}

void pl_put_bytes(pl_writer* w, const uint8_t* p, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) put_body(w, p[i]);
}

/* ---- reader -------------------------------------------------------------------------- */

void pl_reader_init(pl_reader* r, const uint8_t* p, size_t len) {
  r->p = p;
  r->len = len;
  r->pos = 0;
  r->error = 0;
}

int pl_reader_done(const pl_reader* r) { return !r->error && r->pos == r->len; }

static int take(pl_reader* r, size_t n) {
  if (r->error || r->len - r->pos < n) {
    r->error = 1;
    return 0;
  }
  return 1;
}

uint8_t pl_get_u8(pl_reader* r) { return take(r, 1) ? r->p[r->pos++] : 0; }

uint16_t pl_get_u16(pl_reader* r) {
  uint16_t v;
  if (!take(r, 2)) return 0;
  v = (uint16_t)(r->p[r->pos] | ((uint16_t)r->p[r->pos + 1] << 8));
  r->pos += 2;
  return v;
}

uint32_t pl_get_u32(pl_reader* r) {
  uint32_t v = 0;
  int i;
  if (!take(r, 4)) return 0;
  for (i = 3; i >= 0; --i) v = (v << 8) | r->p[r->pos + (size_t)i];
  r->pos += 4;
  return v;
}

float pl_get_f32(pl_reader* r) {
  const uint32_t bits = pl_get_u32(r);
  float v;
  memcpy(&v, &bits, 4);
  return v;
}

void pl_get_bytes(pl_reader* r, uint8_t* out, size_t n) {
  if (!take(r, n)) {
    memset(out, 0, n);
    return;
  }
  memcpy(out, r->p + r->pos, n);
  r->pos += n;
}

/* ---- parser -------------------------------------------------------------------------- */

void pl_parser_init(pl_parser* p, uint8_t* buf, size_t cap) {
  p->buf = buf;
  p->cap = cap;
  pl_parser_reset(p);
}

void pl_parser_reset(pl_parser* p) {
  p->len = 0;
  p->code = 0;
  p->left = 0;
  p->started = 0;
  p->overflow = 0;
}

int pl_frame_check(const uint8_t* body, size_t n, pl_frame* frame) {
  uint16_t crc;
  if (n < PL_FRAME_OVERHEAD || n > PL_MAX_BODY) return 0;
  crc = (uint16_t)(body[n - 2] | ((uint16_t)body[n - 1] << 8));
  if (pl_crc16(0xFFFFu, body, n - PL_CRC_SIZE) != crc) return 0;
  frame->type = body[0];
  frame->seq = (uint16_t)(body[1] | ((uint16_t)body[2] << 8));
  frame->payload = body + PL_HEADER_SIZE;
  frame->len = n - PL_FRAME_OVERHEAD;
  frame->crc = crc;
  return 1;
}

static void append(pl_parser* p, uint8_t b) {
  if (p->len >= p->cap) {
    p->overflow = 1; /* drop everything up to the next delimiter */
    return;
  }
  p->buf[p->len++] = b;
}

int pl_parser_push(pl_parser* p, uint8_t byte, pl_frame* frame) {
  int r = PL_RX_NONE;
  if (byte == PL_DELIMITER) {
    if (p->overflow)
      r = PL_RX_TOO_LONG;
    else if (!p->started)
      r = PL_RX_NONE; /* back-to-back delimiters: nothing lost */
    else if (p->left != 0)
      r = PL_RX_BAD_COBS; /* the block promised more bytes than arrived */
    else if (p->len < PL_FRAME_OVERHEAD)
      r = PL_RX_SHORT;
    else
      r = pl_frame_check(p->buf, p->len, frame) ? PL_RX_FRAME : PL_RX_BAD_CRC;
    pl_parser_reset(p);
    return r;
  }
  if (p->overflow) return PL_RX_NONE;
  if (p->left == 0) {
    /* A code byte. The block before it ended with an implied zero, unless it was full. */
    if (p->started && p->code != 0xFF) append(p, 0);
    p->code = byte;
    p->left = (uint8_t)(byte - 1);
    p->started = 1;
  } else {
    append(p, byte);
    --p->left;
  }
  return PL_RX_NONE;
}

/* ---- whole buffers ------------------------------------------------------------------- */

size_t pl_cobs_encode(const uint8_t* in, size_t n, uint8_t* out, size_t cap) {
  pl_writer w;
  size_t i;
  open_encoding(&w, out, cap);
  for (i = 0; i < n; ++i) put_encoded(&w, in[i]);
  return close_encoding(&w);
}

size_t pl_cobs_decode(const uint8_t* in, size_t n, uint8_t* out, size_t cap) {
  pl_parser p;
  size_t i;
  pl_parser_init(&p, out, cap);
  for (i = 0; i < n; ++i) {
    if (in[i] == PL_DELIMITER) return 0;
    pl_parser_push(&p, in[i], 0);
  }
  if (p.overflow || p.left != 0) return 0;
  return p.len;
}
