#include "patlab/datasets/vowels.h"

#include <cmath>
#include <stdexcept>

#include "patlab/core/rng.h"

namespace patlab {

namespace {

// Hillenbrand et al. (1995), Table V: mean F1, F2, F3 in Hz, for the seven vowels used here.
// Men's and women's values agree across the independent public transcriptions we compared.
// For children two transcriptions disagree on the vowels of "hayed" and "hoed", which are not
// among the seven used here.
constexpr int kClasses = 7;
const char* kWords[kClasses] = {"heed", "hid", "head", "had", "hod", "hood", "who'd"};
constexpr double kFormants[3][kClasses][3] = {
    // men
    {{342, 2322, 3000}, {427, 2034, 2684}, {580, 1799, 2605}, {588, 1952, 2601},
     {768, 1333, 2522}, {469, 1122, 2434}, {378, 997, 2343}},
    // women
    {{437, 2761, 3372}, {483, 2365, 3053}, {731, 2058, 2979}, {669, 2349, 2972},
     {936, 1551, 2815}, {519, 1225, 2827}, {459, 1105, 2735}},
    // children
    {{452, 3081, 3702}, {511, 2552, 3403}, {749, 2267, 3310}, {717, 2501, 3289},
     {1002, 1688, 2950}, {568, 1490, 3072}, {494, 1345, 2988}},
};
// The neutral vowel (uniform tube, 17.5 cm) towards which formants glide: 500, 1500, 2500 Hz.
constexpr double kNeutral[3] = {500, 1500, 2500};

}  // namespace

const char* vowel_word(int c) { return c >= 0 && c < kClasses ? kWords[c] : "?"; }

Dataset make_vowels(int n, uint64_t seed) {
  if (n < kClasses) throw std::invalid_argument("make_vowels: need at least 7 samples");
  Dataset d;
  d.name = "vowels";
  d.num_classes = kClasses;
  d.x.resize(12, n);
  d.y.resize(n);
  Rng rng(seed);
  const double lo = std::log(200.0), hi = std::log(4000.0);
  for (int i = 0; i < n; ++i) {
    const int c = i % kClasses;
    const int group = rng.below(3);
    const double speaker = std::exp(0.05 * rng.normal());  // one scale for all formants
    const double glide = 0.15 * rng.uniform();            // how far towards neutral by the end
    for (int f = 0; f < 3; ++f) {
      const double centre = kFormants[group][c][f] * speaker * std::exp(0.06 * rng.normal());
      for (int t = 0; t < 4; ++t) {
        const double g = glide * t / 3.0;
        const double hz = std::exp((1 - g) * std::log(centre) + g * std::log(kNeutral[f] * speaker));
        const double v = (std::log(hz) - lo) / (hi - lo);
        d.x(3 * t + f, i) = std::min(1.0, std::max(0.0, v));
      }
    }
    d.y[i] = c;
  }
  return d;
}

}  // namespace patlab
