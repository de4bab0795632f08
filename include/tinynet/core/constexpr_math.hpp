// Elementary functions usable in constant expressions, for tables TFLM builds at Prepare time with
// <cmath> (the int8 ELU table). Accurate to about 1e-16 relative, so rounding the result to float
// gives the correctly rounded float, which is what glibc's expf returns.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace tinynet::detail {

// e^x: x = k ln2 + r with |r| <= ln2 / 2, e^r by its Taylor series, times 2^k.
constexpr double exp(double x) {
  if (x < -745.0) return 0.0;  // below the smallest double
  if (x > 709.0) return std::numeric_limits<double>::infinity();
  constexpr double ln2 = 0.69314718055994530942;
  const double kf = x / ln2;
  const int k = static_cast<int>(kf < 0 ? kf - 0.5 : kf + 0.5);
  // ln2 split in two so that k * ln2_hi is exact (Cody-Waite): r keeps its low bits.
  constexpr double ln2_hi = 0.693145751953125;         // 22 significant bits
  constexpr double ln2_lo = 1.42860682030941723212e-6;  // ln2 - ln2_hi
  const double r = (x - k * ln2_hi) - k * ln2_lo;
  double term = 1.0, sum = 1.0;
  for (int n = 1; n < 28; ++n) {
    term *= r / n;
    sum += term;
  }
  double scale = 1.0;
  for (int i = 0; i < (k < 0 ? -k : k); ++i) scale *= 2.0;
  return k < 0 ? sum / scale : sum * scale;
}

// ln x for a finite x > 0: x = m 2^e with m in [1/2, 1), ln m = 2 atanh((m - 1) / (m + 1)) by its
// series (|z| <= 1/3: 40 terms reach 1e-38), plus e ln 2. Accurate to a few ulp of double, so
// rounded to float it is logf's correctly rounded result but for values within 1e-16 of a tie.
constexpr double log(double x) {
  int e = 0;
  double m = x;
  while (m >= 1.0) {
    m /= 2.0;
    ++e;
  }
  while (m < 0.5) {
    m *= 2.0;
    --e;
  }
  const double z = (m - 1.0) / (m + 1.0), z2 = z * z;
  double power = z, sum = 0.0;
  for (int k = 0; k < 40; ++k) {
    sum += power / (2 * k + 1);
    power *= z2;
  }
  return 2.0 * sum + e * 0.69314718055994530942;
}

// std::sqrt(float) (IEEE: correctly rounded) for a finite x > 0: Newton in double, rounded to
// float, then corrected so that x lies between the squares of the result's two half-ulp
// neighbours (those squares are exact in double).
constexpr float sqrt_float(float x) {
  const double s = x;
  double r = s > 1.0 ? s : 1.0;
  for (int i = 0; i < 200; ++i) {
    const double next = 0.5 * (r + s / r);
    if (next == r) break;
    r = next;
  }
  float f = static_cast<float>(r);
  for (int i = 0; i < 4; ++i) {  // at most one step is ever needed
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
    const double above = std::bit_cast<float>(bits + 1), below = std::bit_cast<float>(bits - 1);
    const double up = (f + above) / 2, down = (f + below) / 2;  // exact: 25 significant bits
    if (up * up <= s) f = static_cast<float>(above);
    else if (down * down > s) f = static_cast<float>(below);
    else break;
  }
  return f;
}

}  // namespace tinynet::detail
