// Networks: constexpr inference checked by static_assert, the arena plan, branches and merges.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

// ---- A float MLP evaluated by the compiler ----------------------------------------------------
namespace mlp {
inline constexpr float w1[] = {1, -1, 0.5f, 2};  // [2 units][2 inputs]
inline constexpr float b1[] = {0, 1};
inline constexpr float w2[] = {1, 1};
inline constexpr float b2[] = {0.5f};
using net = Sequential<seq::Input<float, Shape<1, 2>>, seq::Dense<w1, b1, Activation::relu>, seq::Dense<w2, b2>>;
// hidden = relu({2 - 1, 1 + 2 + 1}) = {1, 4}; out = 1 + 4 + 0.5
static_assert(net::evaluate({2.0f, 1.0f})[0] == 5.5f);
// hidden = relu({-3, -0.5 - 2 + 1}) = {0, 0}; out = 0.5
static_assert(net::evaluate({-1.0f, -1.0f})[0] == 0.5f);
static_assert(net::macs == 4 + 2);
}  // namespace mlp

// ---- An int8 chain of three FullyConnected layers ---------------------------------------------
namespace chain {
inline constexpr Quant q{1.0f, 0};
struct x : Tensor<i8, Shape<1, 4>, q> {};
struct h1 : Tensor<i8, Shape<1, 8>, q> {};
struct h2 : Tensor<i8, Shape<1, 8>, q> {};
struct y : Tensor<i8, Shape<1, 2>, q> {};
inline constexpr i8 w1[32] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, -1, 0, 0, 0, 0, 0, 0, -1};
inline constexpr i8 w2[64] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
                              0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
                              0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1};  // identity
inline constexpr i8 w3[16] = {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
inline constexpr std::int32_t b8[8] = {};
inline constexpr std::int32_t b2[2] = {1, -1};
inline constexpr float one[] = {1.0f};
using fc1 = FullyConnected<x, h1, w1, b8, one>;
using fc2 = FullyConnected<h1, h2, w2, b8, one>;
using fc3 = FullyConnected<h2, y, w3, b2, one>;
using net = Network<Inputs<x>, Outputs<y>, fc1, fc2, fc3>;
// h1 = {1, 2, 3, 4, 3, 7, -1, -4}; h2 = h1; y = {1 + 10, -1 + 5}
static_assert(net::evaluate({1, 2, 3, 4}) == std::array<i8, 2>{11, 4});
// Four tensors of 4, 8, 8 and 2 bytes, each padded to 16; at most two are alive at once.
static_assert(net::arena_bytes == 32);
static_assert(net::macs == 32 + 64 + 16);
}  // namespace chain

// ---- weight_bytes counts a table several ops read once ------------------------------------------
namespace shared_tables {
inline constexpr Quant q{1.0f, 0};
inline constexpr Quant q16{1.0f / 4096, 0};
inline constexpr Quant q16_out{1.0f / 32768, 0};
struct x : Tensor<i8, Shape<1, 8>, q> {};
struct h : Tensor<i8, Shape<1, 8>, q> {};
struct y : Tensor<i8, Shape<1, 8>, q> {};
// Two int8 layers read the one weights array (as an unrolled RNN's steps do): it is in the image
// once; each layer has its own folded bias (8 values: int16, since every one fits, else int32;
// core/channel_plan.hpp) and per-tensor multiplier. (Dense: the
// automatic form would make these sparse weights instructions.)
inline constexpr FullyConnectedOptions dense{.sparse_form = SparseForm::dense};
using fc_a = FullyConnected<x, h, chain::w2, chain::b8, chain::one, dense>;
using fc_b = FullyConnected<h, y, chain::w2, chain::b8, chain::one, dense>;
using net = Network<Inputs<x>, Outputs<y>, fc_a, fc_b>;
static_assert(sizeof(fc_a::folded_bias) == 8 * sizeof(std::int16_t));
// The output stage the kernels read: the multiplier and shift (the real multiplier is not below
// 0.5, so the short stage does not apply: core/output_stage.hpp).
static_assert(!fc_a::short_stage && sizeof(fc_a::multipliers) == 8);
static_assert(fc_a::weight_bytes == sizeof(chain::w2) + sizeof(fc_a::folded_bias) + 8);
static_assert(net::weight_bytes == sizeof(chain::w2) + 2 * (sizeof(fc_a::folded_bias) + 8));
static_assert(net::weight_bytes == fc_a::weight_bytes + fc_b::weight_bytes - sizeof(chain::w2));
// Float layers sharing weights and bias: both once.
inline constexpr float w[4] = {1, 2, 3, 4};
inline constexpr float b[2] = {0.5f, -0.5f};
struct fx : Tensor<float, Shape<1, 2>> {};
struct fh : Tensor<float, Shape<1, 2>> {};
struct fy : Tensor<float, Shape<1, 2>> {};
using float_net = Network<Inputs<fx>, Outputs<fy>, FullyConnected<fx, fh, w, b, chain::one>,
                          FullyConnected<fh, fy, w, b, chain::one>>;
static_assert(float_net::weight_bytes == sizeof(w) + sizeof(b));
// int16 Logistic and Tanh read the one sigmoid table.
struct sx : Tensor<std::int16_t, Shape<1, 4>, q16> {};
struct sh : Tensor<std::int16_t, Shape<1, 4>, q16_out> {};
struct sy : Tensor<std::int16_t, Shape<1, 4>, q16_out> {};
using sigmoid_net = Network<Inputs<sx>, Outputs<sy>, Logistic<sx, sh>, Tanh<sh, sy>>;
static_assert(Logistic<sx, sh>::weight_bytes == sizeof(tinynet::detail::sigmoid_table_uint16));
static_assert(sigmoid_net::weight_bytes == sizeof(tinynet::detail::sigmoid_table_uint16));
// Nothing shared: the sum of the ops'.
static_assert(chain::net::weight_bytes ==
              chain::fc1::weight_bytes + chain::fc2::weight_bytes + chain::fc3::weight_bytes);
}  // namespace shared_tables

TEST_CASE("a network sharing a weights array computes with it in both layers") {
  // w2 is the identity: y = h = x.
  CHECK(shared_tables::net::evaluate({1, -2, 3, -4, 5, -6, 7, -8}) == std::array<i8, 8>{1, -2, 3, -4, 5, -6, 7, -8});
}

TEST_CASE("invoke in the planned arena gives what evaluate gives") {
  alignas(16) std::byte arena[chain::net::arena_bytes];
  const std::array<i8, 4> x{1, 2, 3, 4};
  std::memcpy(chain::net::input(arena).data(), x.data(), 4);
  chain::net::invoke(arena);
  CHECK(chain::net::output(arena)[0] == 11);
  CHECK(chain::net::output(arena)[1] == 4);
  // The planner reuses memory: tensors that are never alive together share bytes.
  CHECK(chain::net::offset_of<chain::h2> != chain::net::offset_of<chain::h1>);
}

TEST_CASE("invoke with an after-op hook runs every op in order and gives the same output") {
  alignas(16) std::byte arena[chain::net::arena_bytes];
  const std::array<i8, 4> x{1, 2, 3, 4};
  std::memcpy(chain::net::input(arena).data(), x.data(), 4);
  std::size_t seen[chain::net::op_count + 1] = {};
  std::size_t calls = 0;
  i8 first_hidden_value = 0;
  chain::net::invoke(arena, [&](std::size_t k) {
    seen[calls++] = k;
    // After op 0 its output (h1) is complete and readable in the arena.
    if (k == 0) first_hidden_value = *reinterpret_cast<const i8*>(arena + chain::net::offset_of<chain::h1>);
  });
  CHECK(calls == chain::net::op_count);
  for (std::size_t k = 0; k < calls; ++k) CHECK(seen[k] == k);
  CHECK(first_hidden_value == 1);
  CHECK(chain::net::output(arena)[0] == 11);
  CHECK(chain::net::output(arena)[1] == 4);
}

// ---- A residual block: conv -> add(input, conv) -> reshape -> fc ------------------------------
namespace residual {
inline constexpr Quant q{0.5f, 0};
struct x : Tensor<i8, Shape<1, 2, 2, 2>, q> {};
struct c : Tensor<i8, Shape<1, 2, 2, 2>, q> {};
struct s : Tensor<i8, Shape<1, 2, 2, 2>, q> {};
struct f : Tensor<i8, Shape<1, 8>, q> {};
struct y : Tensor<i8, Shape<1, 1>, q> {};
inline constexpr i8 cw[] = {2, 0, 0, 2};  // 1x1 conv, doubling each channel (w 2 * scale 0.5... see below)
inline constexpr std::int32_t cb[] = {0, 0};
inline constexpr float cs[] = {0.5f};
inline constexpr i8 fw[] = {1, 1, 1, 1, 1, 1, 1, 1};
inline constexpr std::int32_t fb[] = {0};
inline constexpr float fs[] = {1.0f};
using conv = Conv2D<x, c, cw, cb, cs, Conv2DOptions{}>;
using add = Add<x, c, s>;
using flat = Reshape<s, f>;
using fc = FullyConnected<f, y, fw, fb, fs>;
using net = Network<Inputs<x>, Outputs<y>, conv, add, flat, fc>;
// conv: real out = real in * (2 * 0.5) = real in, so s = 2x (in q) and y = sum(2x) * 0.5 / 0.5.
static_assert(net::evaluate({1, 2, 3, 4, 5, 6, 7, 8})[0] == 72);
// The Add writes over its dying first input, and the Reshape output is the Add's buffer.
static_assert(net::offset_of<s> == net::offset_of<x>);
static_assert(net::offset_of<f> == net::offset_of<s>);
static_assert(net::arena_bytes == 32);
}  // namespace residual

TEST_CASE("residual block: in-place Add and aliasing Reshape in the arena") {
  static Instance<residual::net> instance;
  const std::array<i8, 8> x{1, 2, 3, 4, 5, 6, 7, 8};
  std::memcpy(instance.input().data(), x.data(), 8);
  instance.invoke();
  CHECK(instance.output()[0] == 72);
  CHECK(sizeof(instance) == residual::net::arena_bytes);
}

// ---- Two branches merged by Concatenation -----------------------------------------------------
namespace branches {
inline constexpr Quant q{1.0f, 0};
struct x : Tensor<i8, Shape<1, 2>, q> {};
struct a : Tensor<i8, Shape<1, 1>, q> {};
struct b : Tensor<i8, Shape<1, 1>, q> {};
struct ab : Tensor<i8, Shape<1, 2>, q> {};
inline constexpr i8 wa[] = {1, 1};
inline constexpr i8 wb[] = {1, -1};
inline constexpr std::int32_t b0[] = {0};
inline constexpr float one[] = {1.0f};
using net = Network<Inputs<x>, Outputs<ab>, FullyConnected<x, a, wa, b0, one>, FullyConnected<x, b, wb, b0, one>,
                    Concatenation<ab, ConcatenationOptions{.axis = 1}, a, b>>;
static_assert(net::evaluate({5, 3}) == std::array<i8, 2>{8, 2});
}  // namespace branches

// ---- A two-input, two-output network --------------------------------------------------------
namespace multi {
inline constexpr Quant q{1.0f, 0};
struct a : Tensor<i8, Shape<3>, q> {};
struct b : Tensor<i8, Shape<3>, q> {};
struct sum : Tensor<i8, Shape<3>, q> {};
struct diff : Tensor<i8, Shape<3>, q> {};
using net = Network<Inputs<a, b>, Outputs<sum, diff>, Add<a, b, sum>, Sub<a, b, diff>>;
constexpr auto result = net::evaluate({1, 2, 3}, {10, 20, 30});
static_assert(std::get<0>(result) == std::array<i8, 3>{11, 22, 33});
static_assert(std::get<1>(result) == std::array<i8, 3>{-9, -18, -27});
// a is still needed by Sub, so Add must not write over it.
static_assert(net::offset_of<sum> != net::offset_of<a>);
}  // namespace multi

TEST_CASE("multi-input network in the arena keeps inputs alive while they are read") {
  alignas(16) std::byte arena[multi::net::arena_bytes];
  const std::array<i8, 3> a{1, 2, 3}, b{10, 20, 30};
  std::memcpy(multi::net::input<0>(arena).data(), a.data(), 3);
  std::memcpy(multi::net::input<1>(arena).data(), b.data(), 3);
  multi::net::invoke(arena);
  CHECK(multi::net::output<1>(arena)[2] == -27);
  CHECK(multi::net::output<0>(arena)[2] == 33);
}

// ---- The op protocol (core/op.hpp) ------------------------------------------------------------
namespace protocol {
inline constexpr Quant q{1.0f, 0};
struct a : Tensor<i8, Shape<4>, q> {};
struct b : Tensor<i8, Shape<4>, q> {};
struct complete {
  using inputs = TypeList<a>;
  using output = b;
  static constexpr bool in_place = true;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr void run(const i8*, i8*) {}
};
struct no_inputs { using output = b; static constexpr bool in_place = true; static constexpr std::uint64_t macs = 0;
                   static constexpr std::size_t weight_bytes = 0; static constexpr void run(const i8*, i8*) {} };
struct inputs_not_a_list : complete { using inputs = a; };
struct no_output { using inputs = TypeList<a>; static constexpr bool in_place = true; static constexpr std::uint64_t macs = 0;
                   static constexpr std::size_t weight_bytes = 0; static constexpr void run(const i8*, i8*) {} };
struct no_in_place { using inputs = TypeList<a>; using output = b; static constexpr std::uint64_t macs = 0;
                     static constexpr std::size_t weight_bytes = 0; static constexpr void run(const i8*, i8*) {} };
struct no_weight_bytes { using inputs = TypeList<a>; using output = b; static constexpr bool in_place = true;
                         static constexpr std::uint64_t macs = 0; static constexpr void run(const i8*, i8*) {} };
struct no_run { using inputs = TypeList<a>; using output = b; static constexpr bool in_place = true;
                static constexpr std::uint64_t macs = 0; static constexpr std::size_t weight_bytes = 0; };
struct run_of_other_types : complete { static constexpr void run(const float*, float*) {} };
struct run_with_too_few_arguments : complete { static constexpr void run(i8*) {} };

static_assert(NetworkOp<complete>);
static_assert(!op_has_inputs<no_inputs> && !NetworkOp<no_inputs>);
static_assert(!op_has_inputs<inputs_not_a_list> && !NetworkOp<inputs_not_a_list>);
static_assert(!op_has_output<no_output> && !NetworkOp<no_output>);
static_assert(!op_has_in_place<no_in_place> && !NetworkOp<no_in_place>);
static_assert(!op_has_weight_bytes<no_weight_bytes> && !NetworkOp<no_weight_bytes>);
static_assert(!op_has_run<no_run> && !NetworkOp<no_run>);
static_assert(!op_has_run<run_of_other_types> && !op_has_run<run_with_too_few_arguments>);
// (A missing `macs`: tests/compile_fail/op_missing_member.cpp checks the compiler's message.)

// The library's ops follow it.
static_assert(NetworkOp<Reshape<a, b>> && NetworkOp<Add<a, a, b>>);
static_assert(NetworkOp<type_at<0, chain::net::op_list>>);  // a FullyConnected
}  // namespace protocol
