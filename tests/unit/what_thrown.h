// tests/unit/what_thrown.h: the message a call throws, for tests that check what an error says.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace patlab {

// The what() of the E that f() throws. If f() throws nothing, a test failure saying `accepted`
// (what was wrongly accepted) and "".
template <class E, class F>
std::string what_thrown(const F& f, const std::string& accepted) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << accepted;
  return "";
}

}  // namespace patlab
