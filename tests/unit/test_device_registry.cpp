// The device registry (patlab/devices/registry.h): specs, their errors, and the device of one
// physical layer checked against it. Serial ports are tested in test_serial_pty.cpp, the
// Web Serial link in test_web_serial.cpp; here the parts every build has.
#include <gtest/gtest.h>

#include "patlab/devices/link.h"
#include "patlab/devices/registry.h"
#include "patlab/devices/served_device.h"
#include "patlab/emulators/catalog.h"

namespace patlab {
namespace {

std::string error_of(const std::string& spec) {
  try {
    parse_device_spec(spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(DeviceRegistry, ParsesEverySchemeAndABarePath) {
  EXPECT_EQ(parse_device_spec("emulated:oscillators").kind, DeviceSpec::Kind::Emulated);
  EXPECT_EQ(parse_device_spec("emulated:oscillators").target, "oscillators");
  EXPECT_EQ(parse_device_spec("serial:/dev/ttyUSB0").kind, DeviceSpec::Kind::Serial);
  EXPECT_EQ(parse_device_spec("serial:/dev/ttyUSB0").target, "/dev/ttyUSB0");
  EXPECT_EQ(parse_device_spec("webserial").kind, DeviceSpec::Kind::WebSerial);
  // A path, as --device has always taken it, relative or with a colon further on.
  EXPECT_EQ(parse_device_spec("/dev/ttyACM0").kind, DeviceSpec::Kind::Serial);
  EXPECT_EQ(parse_device_spec("dev0").target, "dev0");
  EXPECT_EQ(parse_device_spec("./a:b").target, "./a:b");
  EXPECT_EQ(parse_device_spec("serial:/dev/ttyUSB0").where(), "at /dev/ttyUSB0");
}

TEST(DeviceRegistry, RefusesAnUnknownSchemeAndAMissingTarget) {
  EXPECT_NE(error_of("usb:3").find("unknown scheme 'usb'"), std::string::npos) << error_of("usb:3");
  EXPECT_NE(error_of("emulated:").find("name the system"), std::string::npos);
  EXPECT_NE(error_of("serial:").find("path"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  DeviceRegistry registry;
  EXPECT_THROW(registry.open("emulated:no-such-system"), std::invalid_argument);
  EXPECT_THROW(registry.open("webserial"), std::invalid_argument) << "no link registered";
}

TEST(DeviceRegistry, AnEmulatedLayerIsTheCatalogsInstanceAndAnotherSystemIsRefused) {
  DeviceRegistry registry;
  SystemInstance osc = make_system("oscillators", Shape{}, {}, 1);
  EXPECT_EQ(registry.open_for_layer("emulated:oscillators", osc.device, 0), osc.device);
  try {
    registry.open_for_layer("emulated:crossbar", osc.device, 2);
    ADD_FAILURE() << "a crossbar accepted for an oscillators layer";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'crossbar'"), std::string::npos) << what;
    EXPECT_EQ(what.rfind("physical layer 2: ", 0), 0u) << what;
    EXPECT_NE(what.find("but the layer wants 'oscillators'"), std::string::npos) << what;
  }
  // On its own, an emulated device is made with the settings given.
  const SystemInstance want = make_system("crossbar", Shape{}, {}, 5);
  auto made = registry.open("emulated:crossbar", LinkOptions(), {Shape{}, {}, 5});
  EXPECT_EQ(made->name(), "crossbar");
  EXPECT_EQ(made->input_size(), want.device->input_size());
  EXPECT_EQ(made->param_size(), want.device->param_size());
}

TEST(DeviceRegistry, WebSerialIsTheLinkTheHostRegistered) {
  DeviceRegistry registry;
  auto link = std::make_shared<DeviceLink>();
  registry.add_link("webserial", link);
  EXPECT_THROW(registry.open("webserial"), DevicePending) << "no handshake yet";
  SystemInstance osc = make_system("oscillators", Shape{}, {}, 1);
  LoopbackDevice device(osc.device);
  link->opened(0);
  for (int i = 0; i < 4; ++i) {
    const std::vector<uint8_t> out = link->take_output();
    const std::vector<uint8_t> reply = device.push(out.data(), out.size());
    link->receive_bytes(reply.data(), reply.size(), 0);
  }
  ASSERT_TRUE(link->ready()) << link->last_error();
  auto d = registry.open_for_layer("webserial", osc.device, 0);
  EXPECT_NE(dynamic_cast<LinkedDevice*>(d.get()), nullptr);
  EXPECT_EQ(d->name(), "oscillators");
}

}  // namespace
}  // namespace patlab
