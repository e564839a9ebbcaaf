/* pd_main.c: the entry point of the IDE-free build (firmware/build.sh). The Arduino IDE builds
 * patlab_device/patlab_device.ino instead, whose setup() and loop() make the same two calls. */
#include "pd_core.h"

int main(void) {
  pd_setup();
  for (;;) pd_poll();
}
