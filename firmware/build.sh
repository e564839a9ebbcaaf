#!/usr/bin/env bash
# firmware/build.sh: builds patlab's reference device firmware for an Arduino Uno
# (ATmega328P, 16 MHz) with avr-gcc and avr-libc, no Arduino IDE, and checks it fits.
#
#   firmware/build.sh [OUT_DIR]     default OUT_DIR: build/firmware (in the repository)
#   PATLAB_FW_CFLAGS="-DPD_VREF_V=1.083" firmware/build.sh    extra flags for the firmware's
#                                   own C files (a calibrated reference, PD_SETTLE_MS, PD_BAUD)
#
# Two builds of the same code, both checked against the chip:
#   patlab_device.elf/.hex   plain C: pd_main.c + pd_core.c + devices/protocol (what the
#                            simulator test runs; flash it with avrdude, see README.md)
#   arduino/sketch.elf       the sketch patlab_device.ino as the Arduino IDE would build it,
#                            against Debian's Arduino core (arduino-core-avr), to show the
#                            sketch builds and links (no clash with the core's interrupts)
# Fails with a message naming the package if a tool is missing (scripts/setup.sh installs
# them), or if a build does not fit: flash <= 32256 bytes (32 KB less the Uno's 512-byte
# bootloader), static RAM <= 1536 of 2048 bytes (the rest is the stack's).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$root/build/firmware}
mkdir -p "$out"

fail() {
  echo "firmware: $*" >&2
  exit 1
}
for tool in avr-gcc avr-g++ avr-objcopy avr-size; do
  command -v "$tool" >/dev/null ||
    fail "$tool not found: install Debian's gcc-avr, binutils-avr and avr-libc (scripts/setup.sh does)"
done
echo '#include <avr/io.h>' | avr-gcc -mmcu=atmega328p -E -x c - >/dev/null 2>&1 ||
  fail "avr-libc not found (<avr/io.h>): install Debian's avr-libc (scripts/setup.sh does)"

FLASH_MAX=32256
RAM_MAX=1536
MCU=(-mmcu=atmega328p -DF_CPU=16000000UL)
read -r -a extra <<<"${PATLAB_FW_CFLAGS:-}"

# Flash is .text + .data (initial values), RAM is .data + .bss.
check_size() { # elf label
  local elf=$1 label=$2 text data bss flash ram
  read -r text data bss < <(avr-size -A "$elf" |
    awk '$1==".text"{t=$2} $1==".data"{d=$2} $1==".bss"{b=$2} END{print t+0, d+0, b+0}')
  flash=$((text + data))
  ram=$((data + bss))
  avr-size -A "$elf" | sed -n '1,/^Total/p' | grep -E '^\.(text|data|bss)|^Total' | sed 's/^/  /'
  echo "firmware: $label: flash $flash of $FLASH_MAX bytes, static RAM $ram of $RAM_MAX bytes" \
    "(ATmega328P: 32768 flash, 2048 RAM)"
  ((flash <= FLASH_MAX)) || fail "$label: $flash bytes of flash do not fit an Arduino Uno ($FLASH_MAX)"
  ((ram <= RAM_MAX)) || fail "$label: $ram bytes of static RAM leave too little stack ($RAM_MAX)"
}

# ---- 1. plain C, avr-libc only -------------------------------------------------------------
proto=$root/devices/protocol
cflags=("${MCU[@]}" -std=c99 -Os -g -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion
  -Werror -DPL_NO_TEXT -ffunction-sections -fdata-sections -I"$here/patlab_device" -I"$proto"
  ${extra[@]+"${extra[@]}"})
objs=()
for src in "$here/pd_main.c" "$here/patlab_device/pd_core.c" \
  "$proto/pl_frame.c" "$proto/pl_messages.c" "$proto/pl_device.c"; do
  obj=$out/$(basename "${src%.c}").o
  avr-gcc "${cflags[@]}" -c "$src" -o "$obj"
  objs+=("$obj")
done
avr-gcc "${MCU[@]}" -Os -Wl,--gc-sections -o "$out/patlab_device.elf" "${objs[@]}"
avr-objcopy -O ihex -R .eeprom "$out/patlab_device.elf" "$out/patlab_device.hex"
check_size "$out/patlab_device.elf" "patlab_device.elf (plain C)"

# ---- 2. the sketch against Debian's Arduino core ------------------------------------------
core=/usr/share/arduino/hardware/arduino/avr
[ -f "$core/cores/arduino/Arduino.h" ] ||
  fail "Arduino core not found in $core: install Debian's arduino-core-avr (scripts/setup.sh does)"
ard=$out/arduino
mkdir -p "$ard"
aflags=("${MCU[@]}" -Os -w -ffunction-sections -fdata-sections -DARDUINO=10807 -DARDUINO_AVR_UNO
  -DARDUINO_ARCH_AVR -I"$core/cores/arduino" -I"$core/variants/standard" -I"$here/patlab_device"
  ${extra[@]+"${extra[@]}"})
# What the IDE does with an .ino: prepend Arduino.h and compile it as C++.
{
  echo '#include <Arduino.h>'
  echo "#line 1 \"patlab_device.ino\""
  cat "$here/patlab_device/patlab_device.ino"
} >"$ard/patlab_device.ino.cpp"
aobjs=()
avr-g++ "${aflags[@]}" -std=gnu++11 -fno-exceptions -fno-threadsafe-statics -c \
  "$ard/patlab_device.ino.cpp" -o "$ard/sketch_ino.o"
aobjs+=("$ard/sketch_ino.o")
# The sketch folder's C files, as the IDE compiles them (its links to devices/protocol too).
for src in "$here"/patlab_device/*.c; do
  avr-gcc "${aflags[@]}" -std=gnu11 -c "$src" -o "$ard/sketch_$(basename "${src%.c}").o"
  aobjs+=("$ard/sketch_$(basename "${src%.c}").o")
done
# Debian's gcc-avr 5.4 defines DECIMAL_DIG for C only, which WString.cpp of Debian's core
# (1.8.7, written for the IDE's own gcc 7.3) needs in C++ as well: give it the compiler's value.
rm -f "$ard/core.a"
for src in "$core"/cores/arduino/*.c "$core"/cores/arduino/*.cpp "$core"/cores/arduino/*.S; do
  [ -f "$src" ] || continue
  obj=$ard/core_$(basename "$src").o
  case $src in
    *.c) avr-gcc "${aflags[@]}" -std=gnu11 -c "$src" -o "$obj" ;;
    *.cpp) avr-g++ "${aflags[@]}" -std=gnu++11 -fno-exceptions -fno-threadsafe-statics \
      -DDECIMAL_DIG=__DECIMAL_DIG__ -c "$src" -o "$obj" ;;
    *.S) avr-gcc "${aflags[@]}" -x assembler-with-cpp -c "$src" -o "$obj" ;;
  esac
  avr-ar rcs "$ard/core.a" "$obj"
done
avr-gcc "${MCU[@]}" -Os -Wl,--gc-sections -o "$ard/sketch.elf" "${aobjs[@]}" "$ard/core.a" -lm
check_size "$ard/sketch.elf" "patlab_device.ino (Arduino core)"
echo "firmware: OK ($out)"
