/* pd_core.h: patlab's reference device firmware for an Arduino Uno (ATmega328P at 16 MHz).
 *
 * The device side of patlab's serial protocol (docs/protocol.md; the C library in
 * devices/protocol) in front of a small circuit a class can build on a breadboard: six PWM
 * outputs drive three RC nodes, each clamped by a diode, and the ADC reads the nodes back.
 * firmware/README.md has the wiring, the schematic and the model.
 *
 * Plain C on avr-libc registers, shared by the Arduino sketch (patlab_device.ino calls
 * pd_setup() from setup() and pd_poll() from loop()) and by the IDE-free build
 * (firmware/build.sh, with pd_main.c). */
#ifndef PATLAB_PD_CORE_H
#define PATLAB_PD_CORE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Timers, ADC, UART and the protocol session; enables interrupts. */
void pd_setup(void);
/* Hands every received byte to the protocol and sends any reply; call it in a loop. */
void pd_poll(void);

#ifdef __cplusplus
}
#endif

#endif /* PATLAB_PD_CORE_H */
