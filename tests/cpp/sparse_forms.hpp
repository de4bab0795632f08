// What test_sparse.cpp and test_sparse_conv.cpp check of a layer in its sparse forms. A test case
// C gives its layer in each form as C::layer<Form>.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include <tinynet/tinynet.hpp>

namespace sparse_forms {

// Layer's Out outputs for the input x (in constant evaluation too).
template <class Layer, std::size_t Out, std::size_t In>
constexpr std::array<std::int8_t, Out> run_layer(const std::array<std::int8_t, In>& x) {
  std::array<std::int8_t, Out> y{};
  Layer::run(x.data(), y.data());
  return y;
}

// Not every output is the first's value: the case's scales put the outputs in range, not all
// saturated or clamped to one value (else two forms could agree by accident).
template <std::size_t N>
bool varied(const std::array<std::int8_t, N>& y) {
  return std::count(y.begin(), y.end(), y[0]) < static_cast<long>(N);
}

// C's layer in each of Forms runs that form (`automatic` one of the others) and gives `expected`
// on x.
template <class C, tinynet::SparseForm... Forms, std::size_t In, std::size_t Out>
void check_forms_give(const std::array<std::int8_t, In>& x, const std::array<std::int8_t, Out>& expected) {
  using tinynet::SparseForm;
  static_assert(((Forms == SparseForm::automatic ? C::template layer<Forms>::sparse_form != SparseForm::automatic
                                                 : C::template layer<Forms>::sparse_form == Forms) &&
                 ...));
  ([&] {
    INFO("form ", static_cast<int>(Forms));
    CHECK(run_layer<typename C::template layer<Forms>, Out>(x) == expected);
  }(), ...);
}

}  // namespace sparse_forms
