// patlab/datasets/toy2d.h: small 2-D classification sets, generated from a seed.
//
// Each returns n points (2 x n, coordinates roughly in [−1.5, 1.5]) with Gaussian jitter of
// std `noise`, classes balanced and interleaved; two classes, except clusters (three). Same seed, same points, on every platform.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "patlab/core/dataset.h"

namespace patlab {

Dataset make_moons(int n, double noise, uint64_t seed);    // two interleaved half circles
Dataset make_circles(int n, double noise, uint64_t seed);  // a disc inside a ring
Dataset make_spiral(int n, double noise, uint64_t seed);   // two arms winding around each other
Dataset make_xor(int n, double noise, uint64_t seed);      // four quadrants, opposite ones alike
Dataset make_clusters(int n, double noise, uint64_t seed); // three Gaussian blobs, three classes

// The names accepted by make_toy2d: "moons", "circles", "spiral", "xor", "clusters".
const std::vector<std::string>& toy2d_names();
// Builds a set by name; throws std::invalid_argument naming the valid choices otherwise.
Dataset make_toy2d(const std::string& name, int n, double noise, uint64_t seed);

}  // namespace patlab
