// patlab/datasets/vowels.h: a synthetic 7-class vowel data set in the spirit of the paper's.
//
// The centres are published measurements: the mean first three formant frequencies (F1-F3)
// of American English vowels spoken by men, women and children, Hillenbrand, Getty, Clark &
// Wheeler, "Acoustic characteristics of American English vowels", J. Acoust. Soc. Am. 97,
// 3099 (1995), Table V (the values are in vowels.cpp, with a note on their transcription).
// Everything else is our modelling choice, not the paper's: each sample picks a speaker group
// at random, scales all its formants by one speaker factor (vocal-tract length, std 5 %),
// adds independent jitter per formant (std 6 %), and follows a small linear glide towards the
// neutral vowel over four time points, like the paper's 12 features (F1-F3 at 4 times).
// Features are log-frequencies mapped from [log 200 Hz, log 4000 Hz] onto [0, 1].
#pragma once

#include <cstdint>
#include <string>

#include "patlab/core/dataset.h"

namespace patlab {

// n samples (classes balanced and interleaved), 12 features, 7 classes.
Dataset make_vowels(int n, uint64_t seed);
// The vowel of class c as its /hVd/ word ("heed", "hid", ...).
const char* vowel_word(int c);

}  // namespace patlab
