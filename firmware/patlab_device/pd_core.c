/* pd_core.c: the reference device: patlab's protocol in front of six PWM outputs, three RC
 * nodes clamped by diodes and the ADC (firmware/README.md). ATmega328P at 16 MHz, avr-libc.
 *
 *   inputs  I = 2   x1, x2 in [0, 1]: PWM duty cycles of D9 (OC1A) and D10 (OC1B)
 *   params  P = 4   th1..th4 in [0, 1]: duty cycles of D5 (OC0B), D6 (OC0A), D3 (OC2B),
 *                   D11 (OC2A)
 *   outputs O = 3   voltages of the nodes on A0, A1, A2, in volts, read against the internal
 *                   1.1 V reference (declared range [0, PD_VREF_V])
 *
 * A duty d drives its pin at 5 V for the fraction d of each PWM period (phase-correct PWM,
 * 8 bits: d is rounded to k/255; 0 and 1 are exactly off and on). Every value is checked
 * before anything is driven: a value outside [0, 1], NaN or infinity is refused (BAD_VALUE)
 * and the request runs nothing. After each batch (and on RESET) every output returns to 0. */
#include "pd_core.h"

#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <stdint.h>
#include <util/delay.h>

#include "patlab_protocol.h"

#ifndef F_CPU
#error "F_CPU must be defined (16000000UL on an Arduino Uno)"
#endif
#ifndef PD_BAUD
#define PD_BAUD 115200UL
#endif
/* The internal reference is 1.1 V nominal, 1.0 to 1.2 V from chip to chip: a board measured
 * against a voltmeter can be built with its own value (firmware/README.md, "Calibration"). */
#ifndef PD_VREF_V
#define PD_VREF_V 1.1
#endif
/* Time the RC nodes get to settle after the duties change: the slowest node's time constant
 * is about 1.9 ms (node C: 3.9 kOhm || 470 nF), so 15 ms is 8 of them (< 0.04 %). */
#ifndef PD_SETTLE_MS
#define PD_SETTLE_MS 15
#endif
#define PD_ADC_AVERAGE 16 /* conversions averaged per reading: evens out the PWM ripple */

#define PD_INPUTS 2
#define PD_PARAMS 4
#define PD_OUTPUTS 3
#define PD_MAX_BATCH 8
/* 8 samples in float32: request 5 + 3 + (4 + 2 * 8) * 4 = 88 bytes, result 8 + 3 * 8 * 4 =
 * 104; a 64-byte PING needs 69. */
#define PD_MAX_FRAME 128
#define PD_RING 128 /* UART receive ring, a power of two */

/* ---- the UART: interrupt-driven receive, blocking send -------------------------------- */

static volatile uint8_t ring[PD_RING];
static volatile uint8_t ring_head, ring_tail;

ISR(USART_RX_vect) {
  const uint8_t b = UDR0;
  const uint8_t next = (uint8_t)((ring_head + 1u) & (PD_RING - 1u));
  /* A full ring drops the byte: the frame it belonged to fails its check, the host retries. */
  if (next != ring_tail) {
    ring[ring_head] = b;
    ring_head = next;
  }
}

static void uart_init(void) {
  /* Double speed, as Arduino's own core does: 115200 baud is 2.1 % fast at 16 MHz. */
  const uint16_t ubrr = (uint16_t)((F_CPU + 4UL * PD_BAUD) / (8UL * PD_BAUD) - 1UL);
  UBRR0H = (uint8_t)(ubrr >> 8);
  UBRR0L = (uint8_t)ubrr;
  UCSR0A = (uint8_t)(1u << U2X0);
  UCSR0C = (uint8_t)((1u << UCSZ01) | (1u << UCSZ00)); /* 8N1 */
  UCSR0B = (uint8_t)((1u << RXEN0) | (1u << TXEN0) | (1u << RXCIE0));
}

static void uart_send(const uint8_t* p, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) {
    while (!(UCSR0A & (1u << UDRE0))) {
    }
    UDR0 = p[i];
  }
}

/* ---- the circuit: six PWM outputs, three ADC inputs ----------------------------------- */

/* Channel k of theta-and-x order: x1, x2, th1, th2, th3, th4. */
static void set_duty(uint8_t channel, uint8_t code) {
  switch (channel) {
    case 0: OCR1A = code; break; /* D9  */
    case 1: OCR1B = code; break; /* D10 */
    case 2: OCR0B = code; break; /* D5  */
    case 3: OCR0A = code; break; /* D6  */
    case 4: OCR2B = code; break; /* D3  */
    default: OCR2A = code; break; /* D11 */
  }
}

static void idle(void) {
  uint8_t k;
  for (k = 0; k < PD_INPUTS + PD_PARAMS; ++k) set_duty(k, 0);
}

static void pwm_init(void) {
  idle();
  /* All three timers in phase-correct PWM, 8 bits, no prescaler: 16 MHz / 510 = 31.4 kHz.
   * Non-inverting: a compare value of 0 keeps the pin low, 255 keeps it high. */
  TCCR0A = (uint8_t)((1u << COM0A1) | (1u << COM0B1) | (1u << WGM00));
  TCCR0B = (uint8_t)(1u << CS00);
  TCCR1A = (uint8_t)((1u << COM1A1) | (1u << COM1B1) | (1u << WGM10));
  TCCR1B = (uint8_t)(1u << CS10);
  TCCR2A = (uint8_t)((1u << COM2A1) | (1u << COM2B1) | (1u << WGM20));
  TCCR2B = (uint8_t)(1u << CS20);
  /* Arduino's core counts millis() on timer 0's overflow; nothing here needs it, and at
   * 31 kHz its interrupt would cost a sixth of the CPU. */
  TIMSK0 = 0;
  TIMSK1 = 0;
  TIMSK2 = 0;
  DDRB |= (uint8_t)((1u << PB1) | (1u << PB2) | (1u << PB3)); /* D9, D10, D11 */
  DDRD |= (uint8_t)((1u << PD3) | (1u << PD5) | (1u << PD6)); /* D3, D5, D6 */
}

static uint16_t adc_convert(void) {
  ADCSRA |= (uint8_t)(1u << ADSC);
  while (ADCSRA & (1u << ADSC)) {
  }
  return ADC;
}

static void adc_init(void) {
  ADMUX = (uint8_t)((1u << REFS1) | (1u << REFS0)); /* internal 1.1 V reference, A0 */
  ADCSRA = (uint8_t)((1u << ADEN) | (1u << ADPS2) | (1u << ADPS1) | (1u << ADPS0)); /* /128 */
  DIDR0 = (uint8_t)((1u << ADC0D) | (1u << ADC1D) | (1u << ADC2D));
  _delay_ms(5); /* the reference settles on the AREF pin's capacitor */
  (void)adc_convert();
}

/* Mean of PD_ADC_AVERAGE conversions of A0 + channel, in volts. */
static float read_volts(uint8_t channel) {
  uint16_t sum = 0;
  uint8_t i;
  ADMUX = (uint8_t)((1u << REFS1) | (1u << REFS0) | channel);
  (void)adc_convert(); /* the first conversion after a mux change is thrown away */
  for (i = 0; i < PD_ADC_AVERAGE; ++i) sum = (uint16_t)(sum + adc_convert());
  return (float)sum * (float)(PD_VREF_V / (1024.0 * PD_ADC_AVERAGE));
}

/* ---- the protocol --------------------------------------------------------------------- */

static const pl_range_run param_runs[1] = {{PD_PARAMS, 0.0f, 1.0f}};
static pl_describe desc;
static pl_device dev;
static uint8_t rx_buf[PD_MAX_FRAME];
static uint8_t tx_buf[PL_WIRE_SIZE(PD_MAX_FRAME)];

static uint8_t duty_code(double v) { return (uint8_t)(v * 255.0 + 0.5); }

static uint8_t run_batch(void* ctx, const pl_describe* d, uint8_t format, uint16_t count,
                         pl_reader* in, pl_writer* out, const char** text) {
  pl_reader check = *in;
  uint16_t s;
  uint8_t k;
  uint32_t i, n = (uint32_t)PD_PARAMS + (uint32_t)PD_INPUTS * count;
  (void)ctx;
  /* First every value, before anything is driven. The ranges are [0, 1] for all of them;
   * NaN fails both comparisons. */
  for (i = 0; i < n; ++i) {
    const double v = pl_get_sample(&check, format, 0.0f, 1.0f);
    if (!(v >= 0.0 && v <= 1.0)) {
      *text = 0;
      return PL_ERR_BAD_VALUE;
    }
  }
  if (check.error) return PL_ERR_MALFORMED;
  for (k = 0; k < PD_PARAMS; ++k)
    set_duty((uint8_t)(PD_INPUTS + k), duty_code(pl_get_sample(in, format, 0.0f, 1.0f)));
  for (s = 0; s < count; ++s) {
    for (k = 0; k < PD_INPUTS; ++k)
      set_duty(k, duty_code(pl_get_sample(in, format, d->input_min, d->input_max)));
    _delay_ms(PD_SETTLE_MS);
    for (k = 0; k < PD_OUTPUTS; ++k)
      pl_put_sample(out, format, read_volts(k), d->output_min, d->output_max);
  }
  idle();
  return PL_OK;
}

static void reset_hw(void* ctx) {
  (void)ctx;
  idle();
}

void pd_setup(void) {
  /* boot_id: a counter in EEPROM, one more at every start, so the host sees each restart. */
  uint32_t* const boot_addr = (uint32_t*)0;
  const uint32_t boot = eeprom_read_dword(boot_addr) + 1u;
  eeprom_update_dword(boot_addr, boot);

  cli();
  pwm_init();
  adc_init();
  uart_init();

  desc.version = PL_VERSION;
  desc.formats = (uint8_t)(PL_FORMAT_BIT(PL_FMT_F32) | PL_FORMAT_BIT(PL_FMT_Q16));
  desc.input_size = PD_INPUTS;
  desc.param_size = PD_PARAMS;
  desc.output_size = PD_OUTPUTS;
  desc.max_batch = PD_MAX_BATCH;
  desc.max_frame = PD_MAX_FRAME;
  desc.boot_id = boot;
  desc.input_min = 0.0f;
  desc.input_max = 1.0f;
  desc.output_min = 0.0f;
  desc.output_max = (float)PD_VREF_V;
  desc.runs = param_runs;
  desc.run_count = 1;
  {
    static const char name[] = "rc_diode"; /* the catalog system patlab trains it with */
    uint8_t i;
    for (i = 0; i < sizeof name; ++i) desc.name[i] = name[i];
  }
  pl_device_init(&dev, &desc, run_batch, reset_hw, 0, rx_buf, sizeof rx_buf, tx_buf,
                 sizeof tx_buf);
  sei();
}

void pd_poll(void) {
  while (ring_tail != ring_head) {
    const uint8_t b = ring[ring_tail];
    size_t n;
    ring_tail = (uint8_t)((ring_tail + 1u) & (PD_RING - 1u));
    n = pl_device_push(&dev, b);
    if (n) uart_send(dev.tx, n);
  }
}
