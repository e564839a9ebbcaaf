/* pl_messages.c: sample formats, the DESCRIBE record and batch sizes. See docs/protocol.md. */
#include <float.h>
#include <string.h>

#include "patlab_protocol.h"

/* avr-gcc's double is 32 bits by default: float64 samples exist only where it is 64. */
#if DBL_MANT_DIG == 53
#define PL_HAS_F64 1
#else
#define PL_HAS_F64 0
#endif

const char* pl_error_name(uint8_t code) {
  switch (code) {
    case PL_OK:
      return "no error";
    case PL_ERR_VERSION:
      return "no common protocol version";
    case PL_ERR_UNKNOWN_TYPE:
      return "unknown request type";
    case PL_ERR_MALFORMED:
      return "malformed request";
    case PL_ERR_FORMAT:
      return "unsupported sample format";
    case PL_ERR_TOO_LARGE:
      return "batch too large";
    case PL_ERR_BAD_VALUE:
      return "value not finite or out of range";
    case PL_ERR_NO_SESSION:
      return "no session (HELLO first)";
    case PL_ERR_DEVICE:
      return "device failure";
    case PL_ERR_BUSY:
      return "device busy";
    default:
      return "unknown error";
  }
}

size_t pl_sample_size(uint8_t format) {
  switch (format) {
    case PL_FMT_F32:
      return 4;
    case PL_FMT_Q16:
      return 2;
    case PL_FMT_F64:
      return PL_HAS_F64 ? 8 : 0;
    default:
      return 0;
  }
}

/* x - x is 0 for every finite x and NaN for infinities and NaN (no libm needed). */
static int finite_d(double x) { return x - x == 0.0; }

void pl_put_sample(pl_writer* w, uint8_t format, double v, float lo, float hi) {
  switch (format) {
    case PL_FMT_F32:
      pl_put_f32(w, (float)v);
      return;
    case PL_FMT_Q16: {
      /* 65536 codes spread evenly over [lo, hi]: code k stands for lo + k (hi - lo) / 65535,
       * so both ends are exact. Round to the nearest code; saturate outside the range. */
      double t;
      int32_t k;
      if (!finite_d(v) || !finite_d(lo) || !finite_d(hi) || !(hi > lo)) {
        w->error = 1;
        return;
      }
      t = (v - lo) / ((double)hi - lo) * 65535.0 + 0.5;
      if (t < 0.0) t = 0.0;
      if (t > 65535.0) t = 65535.0;
      k = (int32_t)t; /* t >= 0, so truncation is floor: round half up */
      pl_put_u16(w, (uint16_t)(int16_t)(k - 32768));
      return;
    }
    case PL_FMT_F64:
#if PL_HAS_F64
    {
      uint64_t bits;
      memcpy(&bits, &v, 8);
      pl_put_u32(w, (uint32_t)(bits & 0xFFFFFFFFu));
      pl_put_u32(w, (uint32_t)(bits >> 32));
      return;
    }
#endif
    default:
      w->error = 1;
      return;
  }
}

double pl_get_sample(pl_reader* r, uint8_t format, float lo, float hi) {
  switch (format) {
    case PL_FMT_F32:
      return pl_get_f32(r);
    case PL_FMT_Q16: {
      const int16_t raw = (int16_t)pl_get_u16(r);
      const double v = lo + ((double)raw + 32768.0) * ((double)hi - lo) / 65535.0;
      /* Rounding may land an ulp outside [lo, hi]; a receiver checking ranges must not
       * refuse the very ends of them. */
      return v < lo ? lo : (v > hi ? hi : v);
    }
    case PL_FMT_F64:
#if PL_HAS_F64
    {
      uint64_t bits = pl_get_u32(r);
      double v;
      bits |= (uint64_t)pl_get_u32(r) << 32;
      memcpy(&v, &bits, 8);
      return v;
    }
#endif
    default:
      r->error = 1;
      return 0.0;
  }
}

/* ---- DESCRIBE ------------------------------------------------------------------------ */

void pl_put_describe(pl_writer* w, const pl_describe* d) {
  uint16_t i;
  size_t name_len = strlen(d->name);
  if (name_len > PL_NAME_MAX) name_len = PL_NAME_MAX;
  pl_put_u8(w, d->version);
  pl_put_u8(w, d->formats);
  pl_put_u16(w, d->input_size);
  pl_put_u16(w, d->param_size);
  pl_put_u16(w, d->output_size);
  pl_put_u16(w, d->max_batch);
  pl_put_u16(w, d->max_frame);
  pl_put_u32(w, d->boot_id);
  pl_put_f32(w, d->input_min);
  pl_put_f32(w, d->input_max);
  pl_put_f32(w, d->output_min);
  pl_put_f32(w, d->output_max);
  pl_put_u16(w, d->run_count);
  for (i = 0; i < d->run_count; ++i) {
    pl_put_u16(w, d->runs[i].count);
    pl_put_f32(w, d->runs[i].lo);
    pl_put_f32(w, d->runs[i].hi);
  }
  pl_put_u8(w, (uint8_t)name_len);
  pl_put_bytes(w, (const uint8_t*)d->name, name_len);
}

uint8_t pl_get_describe(pl_reader* r, pl_describe* d, pl_range_run* runs, uint16_t cap) {
  uint16_t i;
  uint32_t total = 0;
  uint8_t name_len;
  memset(d, 0, sizeof *d);
  d->version = pl_get_u8(r);
  if (r->error) return PL_ERR_MALFORMED;
  /* Another version may lay out everything after this byte differently. */
  if (d->version != PL_VERSION) return PL_ERR_VERSION;
  d->formats = pl_get_u8(r);
  d->input_size = pl_get_u16(r);
  d->param_size = pl_get_u16(r);
  d->output_size = pl_get_u16(r);
  d->max_batch = pl_get_u16(r);
  d->max_frame = pl_get_u16(r);
  d->boot_id = pl_get_u32(r);
  d->input_min = pl_get_f32(r);
  d->input_max = pl_get_f32(r);
  d->output_min = pl_get_f32(r);
  d->output_max = pl_get_f32(r);
  d->run_count = pl_get_u16(r);
  if (r->error || d->run_count > cap) return PL_ERR_MALFORMED;
  for (i = 0; i < d->run_count; ++i) {
    runs[i].count = pl_get_u16(r);
    runs[i].lo = pl_get_f32(r);
    runs[i].hi = pl_get_f32(r);
    total += runs[i].count;
  }
  d->runs = runs;
  name_len = pl_get_u8(r);
  if (r->error || name_len > PL_NAME_MAX) return PL_ERR_MALFORMED;
  pl_get_bytes(r, (uint8_t*)d->name, name_len);
  d->name[name_len] = '\0';
  if (!pl_reader_done(r) || total != d->param_size || d->max_batch == 0 || d->formats == 0 ||
      d->max_frame < PL_FRAME_OVERHEAD)
    return PL_ERR_MALFORMED;
  return PL_OK;
}

int pl_param_range(const pl_describe* d, uint16_t i, float* lo, float* hi) {
  uint16_t k;
  uint32_t first = 0;
  for (k = 0; k < d->run_count; ++k) {
    if (i < first + d->runs[k].count) {
      *lo = d->runs[k].lo;
      *hi = d->runs[k].hi;
      return 1;
    }
    first += d->runs[k].count;
  }
  return 0;
}

/* ---- batch sizes --------------------------------------------------------------------- */

/* PL_FRAME_OVERHEAD + format u8 + count u16 + values * bytes, saturating at UINT32_MAX. */
static uint32_t body_for(uint32_t values, size_t sample) {
  const uint32_t fixed = PL_FRAME_OVERHEAD + 3;
  if (sample == 0 || values > (0xFFFFFFFFu - fixed) / sample) return 0xFFFFFFFFu;
  return fixed + values * (uint32_t)sample;
}

uint32_t pl_request_body(const pl_describe* d, uint8_t format, uint32_t count) {
  const uint32_t per = d->input_size;
  if (count != 0 && per > (0xFFFFFFFFu - d->param_size) / count) return 0xFFFFFFFFu;
  return body_for(d->param_size + per * count, pl_sample_size(format));
}

uint32_t pl_result_body(const pl_describe* d, uint8_t format, uint32_t count) {
  const uint32_t per = d->output_size;
  if (count != 0 && per > 0xFFFFFFFFu / count) return 0xFFFFFFFFu;
  return body_for(per * count, pl_sample_size(format));
}

uint16_t pl_batch_limit(const pl_describe* d, uint8_t format) {
  /* Both bodies grow linearly with the count, so search the largest that fits by halving:
   * simpler to trust than solving the two inequalities with their zero-size corner cases. */
  uint32_t lo = 0, hi = d->max_batch;
  if (pl_sample_size(format) == 0 || !(d->formats & PL_FORMAT_BIT(format))) return 0;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo + 1) / 2;
    if (pl_request_body(d, format, mid) <= d->max_frame &&
        pl_result_body(d, format, mid) <= d->max_frame)
      lo = mid;
    else
      hi = mid - 1;
  }
  return (uint16_t)lo;
}
