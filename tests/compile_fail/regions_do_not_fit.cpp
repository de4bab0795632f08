// expect: tinynet: RegionPlan: the network does not fit its memory regions
// expect: tensor_does_not_fit_in_the_regions<image, 128, 64, 96>
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant q{1.0f, 0};
struct image : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 128>, q> {};
struct scores : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4>, q> {};
inline constexpr std::int8_t w[4 * 128] = {};
inline constexpr std::int32_t b[4] = {};
inline constexpr float s[1] = {1.0f};
using net = tinynet::Network<tinynet::Inputs<image>, tinynet::Outputs<scores>,
                             tinynet::FullyConnected<image, scores, w, b, s>>;
// A 128-byte input, and no region of 128 bytes.
using plan = tinynet::RegionPlan<net, tinynet::Region<64>, tinynet::Region<96>>;
int main() { return static_cast<int>(plan::bytes<0>); }
