/* pd_sim.c: runs the reference firmware on a simulated ATmega328P (simavr) and connects its
 * UART to a new pseudo-terminal, so that any host (SerialDevice, `patlab train --device`)
 * talks to the unmodified firmware as to a board on USB.
 *
 *   patlab_firmware_sim FIRMWARE.elf LINK [SECONDS]
 *
 * LINK becomes a symbolic link to the pty (removed again on exit); the simulator stops after
 * SECONDS (default 600) or at SIGINT/SIGTERM. The circuit is simulated at its ADC: whenever
 * the firmware starts a conversion, the harness reads the six PWM compare registers, solves
 * the nominal circuit (pd_circuit.h) and hands the node voltages to simavr's ADC, which
 * converts them against the reference the firmware chose, as the chip would. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "avr_adc.h"
#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_elf.h"

#include "pd_circuit.h"

/* Data-space addresses of the compare registers on the ATmega328P, in channel order
 * x1 OCR1AL (D9), x2 OCR1BL (D10), th1 OCR0B (D5), th2 OCR0A (D6), th3 OCR2B (D3),
 * th4 OCR2A (D11). */
static const uint16_t ocr_addr[PD_CHANNELS] = {0x88, 0x8A, 0x48, 0x47, 0xB4, 0xB3};

static avr_t* avr;
static int master = -1;
static int xon = 1;
static volatile sig_atomic_t stop;
static avr_irq_t* adc_in[PD_NODES];

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void on_uart_out(struct avr_irq_t* irq, uint32_t value, void* param) {
  const uint8_t b = (uint8_t)value;
  (void)irq;
  (void)param;
  while (write(master, &b, 1) < 0 && errno == EAGAIN) usleep(100);
}

static void on_xon(struct avr_irq_t* irq, uint32_t value, void* param) {
  (void)irq, (void)value, (void)param;
  xon = 1;
}

static void on_xoff(struct avr_irq_t* irq, uint32_t value, void* param) {
  (void)irq, (void)value, (void)param;
  xon = 0;
}

static void on_adc_trigger(struct avr_irq_t* irq, uint32_t value, void* param) {
  double d[PD_CHANNELS];
  int k, j;
  (void)irq, (void)value, (void)param;
  for (k = 0; k < PD_CHANNELS; ++k) d[k] = avr->data[ocr_addr[k]] / 255.0;
  for (j = 0; j < PD_NODES; ++j) {
    const double v = pd_node_volts(j, d);
    avr_raise_irq(adc_in[j], (uint32_t)(v * 1000.0 + 0.5)); /* millivolts */
  }
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char** argv) {
  elf_firmware_t fw;
  int slave = -1, j;
  uint32_t flags = 0;
  uint8_t pending[256];
  size_t npending = 0, next = 0;
  double limit = 600.0, start;
  struct termios tio;
  const char* link;
  if (argc < 3) {
    fprintf(stderr, "usage: %s FIRMWARE.elf LINK [SECONDS]\n", argv[0]);
    return 2;
  }
  link = argv[2];
  if (argc > 3) limit = atof(argv[3]);

  memset(&fw, 0, sizeof fw);
  if (elf_read_firmware(argv[1], &fw) != 0) {
    fprintf(stderr, "pd_sim: cannot read %s\n", argv[1]);
    return 1;
  }
  avr = avr_make_mcu_by_name("atmega328p");
  if (!avr) {
    fprintf(stderr, "pd_sim: simavr has no atmega328p\n");
    return 1;
  }
  avr_init(avr);
  fw.frequency = 16000000;
  avr_load_firmware(avr, &fw);
  avr->frequency = 16000000;
  avr->vcc = avr->avcc = avr->aref = 5000; /* millivolts, as on an Uno powered by USB */
  avr->log = 0;

  avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags); /* no stdio echo, no poll sleep */
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
                          on_uart_out, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
                          on_xon, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
                          on_xoff, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER),
                          on_adc_trigger, NULL);
  for (j = 0; j < PD_NODES; ++j)
    adc_in[j] = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + j);

  if (openpty(&master, &slave, NULL, NULL, NULL) != 0) {
    perror("pd_sim: openpty");
    return 1;
  }
  /* Raw, binary, like a USB serial adapter. The slave stays open here too, so the master
   * does not read EIO between two hosts. */
  tcgetattr(slave, &tio);
  cfmakeraw(&tio);
  tcsetattr(slave, TCSANOW, &tio);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  unlink(link);
  if (symlink(ptsname(master), link) != 0) {
    perror("pd_sim: symlink");
    return 1;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  printf("pd_sim: %s -> %s\n", link, ptsname(master));
  fflush(stdout);

  start = now_s();
  while (!stop) {
    int i, state = cpu_Running;
    for (i = 0; i < 4000; ++i) {
      state = avr_run(avr);
      if (state == cpu_Done || state == cpu_Crashed) break;
    }
    if (state == cpu_Done || state == cpu_Crashed) {
      fprintf(stderr, "pd_sim: the simulated chip %s\n", state == cpu_Done ? "stopped" : "crashed");
      break;
    }
    if (next == npending) {
      const ssize_t n = read(master, pending, sizeof pending);
      npending = n > 0 ? (size_t)n : 0;
      next = 0;
    }
    while (xon && next < npending) avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'),
                                                               UART_IRQ_INPUT),
                                                 pending[next++]);
    if (now_s() - start > limit) break;
  }
  unlink(link);
  close(slave);
  close(master);
  return stop ? 0 : 1;
}
