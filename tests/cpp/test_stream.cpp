// StreamWindow + Instance::invoke_from: a network reading the last N frames of a stream in place
// gives the same outputs as the same network on a copy of those frames (the copy is made here, by
// the test, from its own list of every frame pushed).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

namespace stream_nets {
inline constexpr Quant q{0.5f, 3};
inline constexpr Quant out_q{0.25f, -7};
// 4 frames of 3 values -> 5 scores.
struct window : Tensor<i8, Shape<1, 12>, q> {};
struct scores : Tensor<i8, Shape<1, 5>, out_q> {};
inline constexpr auto w = [] {
  std::array<i8, 60> v{};
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<i8>(static_cast<int>(i * 37 % 23) - 11);
  return v;
}();
inline constexpr std::int32_t b[5] = {5, -9, 0, 100, -100};
inline constexpr float s[1] = {0.1f};
using dense = Network<Inputs<window>, Outputs<scores>, FullyConnected<window, scores, w, b, s>>;

// The same behind a Reshape (an aliasing op: with invoke_from its output is read where the input
// is, so it does not copy) and a Relu that runs in place.
struct grid : Tensor<i8, Shape<1, 4, 3>, q> {};
struct flat : Tensor<i8, Shape<1, 12>, q> {};
struct rectified : Tensor<i8, Shape<1, 12>, q> {};
using reshaped = Network<Inputs<grid>, Outputs<scores>, Reshape<grid, flat>, Relu<flat, rectified>,
                         FullyConnected<rectified, scores, w, b, s>>;
}  // namespace stream_nets

namespace {
std::array<i8, 3> frame_number(int k) {
  return {static_cast<i8>(k * 11 - 60), static_cast<i8>(100 - k * 13), static_cast<i8>((k * k) % 50 - 25)};
}

template <class Net>
void stream_matches_copied_windows(bool input_bytes_untouched) {
  static Instance<Net> streaming;
  static Instance<Net> copying;
  static StreamWindow<Net, 3> stream;
  std::vector<i8> history;
  int inferences = 0;
  for (int k = 0; k < 11; ++k) {
    const auto frame = frame_number(k);
    stream.push(frame);
    history.insert(history.end(), frame.begin(), frame.end());
    CHECK(stream.full() == (k >= 3));
    if (!stream.full()) continue;
    // The window is the last four frames, oldest first.
    const std::vector<i8> last(history.end() - 12, history.end());
    CHECK(std::equal(last.begin(), last.end(), stream.window().begin()));
    streaming.invoke_from(stream);
    std::copy(last.begin(), last.end(), copying.input().begin());
    copying.invoke();
    CHECK(std::equal(copying.output().begin(), copying.output().end(), streaming.output().begin()));
    ++inferences;
  }
  CHECK(inferences == 8);
  // invoke_from never wrote the input's bytes of the arena (still zero-initialised .bss): the window
  // was not copied. (In the reshaped network the in-place Relu's output takes those bytes.)
  if (input_bytes_untouched) {
    CHECK(std::all_of(streaming.input().begin(), streaming.input().end(), [](i8 v) { return v == 0; }));
  }
}
}  // namespace

TEST_CASE("StreamWindow: a dense layer on the window in place equals it on a copied window") {
  stream_matches_copied_windows<stream_nets::dense>(true);
}

TEST_CASE("StreamWindow: through an aliasing Reshape and a Relu") { stream_matches_copied_windows<stream_nets::reshaped>(false); }

TEST_CASE("StreamWindow: before N frames the window starts with zeros; reset forgets") {
  static StreamWindow<stream_nets::dense, 3> stream;
  stream.push(std::array<i8, 3>{1, 2, 3});
  CHECK(!stream.full());
  const std::array<i8, 12> expected{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3};
  // One frame pushed: slot 1 is next, the window starts there: three empty frames, then frame 0
  // (its second copy).
  CHECK(std::equal(expected.begin(), expected.end(), stream.window().begin()));
  stream.reset();
  CHECK(std::all_of(stream.window().begin(), stream.window().end(), [](i8 v) { return v == 0; }));
  static_assert(StreamWindow<stream_nets::dense, 3>::frames == 4);
  static_assert(sizeof(StreamWindow<stream_nets::dense, 3>) >= (2 * 12 - 3));
}
