// Flash integrity: a checksum of the constant tables a network's kernels read, computed by the
// compiler, and the same checksum recomputed from memory at run time (at boot, say) to detect
// corrupted flash.
//
//   static_assert(kws::network::weights_checksum != 0);           // a compile-time constant
//   if (!tinynet::verify_weights<kws::network>()) enter_safe_mode(); // reads every table again
//
// The checksum is CRC-32/ISO-HDLC (the zlib/Ethernet CRC: reflected polynomial 0xEDB88320,
// initial value and final XOR 0xFFFFFFFF, table built by the compiler) of each table's bytes as
// they lie in memory (a struct table, such as the per-channel multipliers, counts as one part per
// member array: padding is never read); the network's checksum is the CRC-32 of those per-part
// CRCs (4 bytes each, least significant first, in op order). Each part is its own constant
// evaluation, so a large model stays within the compilers' constexpr step limits.
//
// The tables of an op are those its constant_tables() lists (core/constant_tables.hpp): the
// weights the user passed (and the bias of float layers), plus the tables the compiler derived
// from them that the kernels read instead: folded biases, per-channel multipliers and shifts,
// packed weights, the entries of compressed sparse layers. This header walks any op
// that lists its tables and includes nothing outside core/.
// Quantization scales and int8 biases are not checksummed: they are used only at compile time
// (folded into those tables) and are not in the image. Ops without tables (pooling, add,
// softmax...) keep their few parameters in instructions, which a check of the code covers.
// Other ops list what their kernels read in flash: constant operands (ConstantTensor arrays), the
// 256-entry int8 tables (HardSwish, Elu, Rsqrt), a constant divisor's reciprocals (Div), Gather's
// indices, ResizeNearestNeighbor's row and column tables, MirrorPad's source offsets.
// verify_weights() takes the address of every table, so a table the kernels would not otherwise
// read (the plain weights of a depthwise layer whose kernel reads the packed copy) is linked too.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

#include "constant_tables.hpp"
#include "type_list.hpp"

namespace tinynet {

namespace detail {

// A plain array inside a struct: indexing it is no function call in constant evaluation.
struct Crc32Table {
  std::uint32_t entry[256];
};
inline constexpr Crc32Table crc32_table = [] {
  Crc32Table table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
    table.entry[i] = c;
  }
  return table;
}();

constexpr std::uint32_t crc32_step(std::uint32_t state, std::uint8_t byte) {
  return crc32_table.entry[(state ^ byte) & 0xFFu] ^ (state >> 8);
}

// The bits of one value, as the unsigned integer of its size (no function call per element in
// constant evaluation: both compilers' interpreters are slow at calls).
template <class T>
constexpr auto value_bits(const T& value) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<std::make_unsigned_t<T>>(value);
  } else if constexpr (sizeof(T) == 4) {
    return __builtin_bit_cast(std::uint32_t, value);
  } else {
    static_assert(sizeof(T) == 8, "tinynet: checksum of a table of 1, 2, 4 or 8-byte elements");
    return __builtin_bit_cast(std::uint64_t, value);
  }
}

// CRC-32 state after `value`'s bytes, least significant first (little-endian memory order).
template <class T>
constexpr std::uint32_t crc32_value(std::uint32_t state, const T& value) {
  auto bits = value_bits(value);
  for (std::size_t b = 0; b < sizeof(T); ++b) {
    state = crc32_table.entry[(state ^ static_cast<std::uint32_t>(bits)) & 0xFFu] ^ (state >> 8);
    if constexpr (sizeof(T) > 1) bits >>= 8;
  }
  return state;
}

// Whether the compiler can checksum a table: arrays and std::arrays of integers or floats, and the
// structs of std::arrays the layers use (see part_count).
template <class T>
struct table_traits {
  static constexpr bool supported = std::is_arithmetic_v<T> || requires(const T& t) { t.multiplier; } ||
                                    requires(const T& t) { t.packed; };
};
template <class T, std::size_t N>
struct table_traits<T[N]> {
  static constexpr bool supported = std::is_arithmetic_v<T>;
};
template <class T, std::size_t N>
struct table_traits<std::array<T, N>> {
  static constexpr bool supported = std::is_arithmetic_v<T>;
};

// CRC-32 state after `count` elements at `data`, each as its bytes in memory order.
// One statement per byte and eight bytes per iteration for byte arrays: clang counts evaluation
// steps per statement (-fconstexpr-steps, 2^20 by default), and a large layer has 80 KB of weights.
#define TINYNET_CRC_BYTE(value) state = crc32_table.entry[(state ^ static_cast<std::uint32_t>(value)) & 0xFFu] ^ (state >> 8)

template <class E>
constexpr std::uint32_t crc32_elements(std::uint32_t state, const E* data, std::size_t count) {
  if constexpr (sizeof(E) == 1) {
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
      TINYNET_CRC_BYTE(value_bits(data[i]));
      TINYNET_CRC_BYTE(value_bits(data[i + 1]));
      TINYNET_CRC_BYTE(value_bits(data[i + 2]));
      TINYNET_CRC_BYTE(value_bits(data[i + 3]));
      TINYNET_CRC_BYTE(value_bits(data[i + 4]));
      TINYNET_CRC_BYTE(value_bits(data[i + 5]));
      TINYNET_CRC_BYTE(value_bits(data[i + 6]));
      TINYNET_CRC_BYTE(value_bits(data[i + 7]));
    }
    for (; i < count; ++i) TINYNET_CRC_BYTE(value_bits(data[i]));
  } else if constexpr (sizeof(E) == 2 || sizeof(E) == 4) {
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint32_t bits = value_bits(data[i]);
      TINYNET_CRC_BYTE(bits);
      TINYNET_CRC_BYTE(bits >> 8);
      if constexpr (sizeof(E) == 4) {
        TINYNET_CRC_BYTE(bits >> 16);
        TINYNET_CRC_BYTE(bits >> 24);
      }
    }
  } else {
    for (std::size_t i = 0; i < count; ++i) state = crc32_value(state, data[i]);
  }
  return state;
}
#undef TINYNET_CRC_BYTE

// A table is one or more parts, each a run of elements with no padding: an array or std::array
// is one part; a struct of std::arrays (ChannelMultipliers: multiplier, shift; ShortOutputStage:
// multiplier, rounding, right_shift) is one part per member, so that padding between or after
// its members, whose bytes are not defined, is never read.
template <class T>
constexpr std::size_t part_count() {
  if constexpr (requires(const T& t) { t.multiplier; t.rounding; t.right_shift; }) {
    return 3;
  } else if constexpr (requires(const T& t) { t.multiplier; t.shift; }) {
    return 2;
  } else {
    return 1;
  }
}

// (pointer to the first element, element count) of part K of `table`.
template <std::size_t K, class T>
constexpr auto part(const T& table) {
  if constexpr (std::is_array_v<T>) {
    return std::pair{&table[0], std::size_t{std::extent_v<T>}};
  } else if constexpr (requires { typename T::value_type; std::tuple_size<T>::value; }) {
    return std::pair{table.data(), table.size()};
  } else if constexpr (part_count<T>() == 3) {
    if constexpr (K == 0) return std::pair{table.multiplier.data(), table.multiplier.size()};
    else if constexpr (K == 1) return std::pair{table.rounding.data(), table.rounding.size()};
    else return std::pair{table.right_shift.data(), table.right_shift.size()};
  } else if constexpr (requires { table.packed; }) {  // int4 weights, packed two per byte (core/int4.hpp)
    return std::pair{table.packed.data(), table.packed.size()};
  } else {
    if constexpr (K == 0) return std::pair{table.multiplier.data(), table.multiplier.size()};
    else return std::pair{table.shift.data(), table.shift.size()};
  }
}

template <std::size_t K, class T>
constexpr std::uint32_t crc32_part(std::uint32_t state, const T& table) {
  const auto [data, count] = part<K>(table);
  return crc32_elements(state, data, count);
}

template <std::size_t K, class T>
constexpr std::size_t part_bytes(const T& table) {
  const auto [data, count] = part<K>(table);
  return count * sizeof(*data);
}

}  // namespace detail

// CRC-32 of part K of one constant table, computed by the compiler (each its own evaluation);
// table_crc32 of an array is the CRC-32 of its bytes.
template <const auto& Table, std::size_t K = 0>
inline constexpr std::uint32_t table_crc32 = ~detail::crc32_part<K>(0xFFFFFFFFu, Table);

// CRC-32 of the CRC-32s of several arrays (4 bytes each, least significant first): what a
// generated header's static_assert compares with the generator's own value (arrays_crc32).
template <const auto&... Arrays>
inline constexpr std::uint32_t arrays_crc32 = ~[] {
  std::uint32_t state = 0xFFFFFFFFu;
  ((state = detail::crc32_value(state, table_crc32<Arrays>)), ...);
  return state;
}();

// CRC-32 of `size` bytes at `data`, read through a volatile pointer: the compiler cannot replace
// the reads by the constants it knows, so this really reads memory (flash) at run time.
inline std::uint32_t crc32(const void* data, std::size_t size) {
  const volatile std::uint8_t* p = static_cast<const volatile std::uint8_t*>(data);
  std::uint32_t state = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) state = detail::crc32_step(state, p[i]);
  return ~state;
}

// One constant table in memory.
struct ConstantSpan {
  const void* data;
  std::size_t bytes;
};

// ---- which tables an op reads ----------------------------------------------------------------

// Calls f.template operator()<Table>() for every table of every op of Net, in op order: the
// tables each op lists in constant_tables() (core/constant_tables.hpp); ops without tables (pooling,
// add, softmax...) have none.
template <class Net, class F>
constexpr void for_each_constant(F&& f) {
  [&]<class... Ops>(TypeList<Ops...>) {
    (([&] {
       if constexpr (requires { Ops::constant_tables(); }) {
         [&]<const auto&... Tables>(ConstantTables<Tables...>) {
           (f.template operator()<Tables>(), ...);
         }(Ops::constant_tables());
       }
     }()),
     ...);
  }(typename Net::op_list{});
}

namespace detail {
// A table as a type: two listings name the same object exactly when their TableIdentity types are
// the same. (Comparing the tables' addresses is not a constant expression under GCC's
// -fsanitize=address: the unit tests' sanitized build refused it.)
template <const auto& Table>
struct TableIdentity {
  static constexpr std::size_t bytes = sizeof(Table);
};
template <const auto&... Tables>
TypeList<TableIdentity<Tables>...> table_identities(ConstantTables<Tables...>);

// The distinct tables of ops Ops..., each once, in order of first listing.
template <class List, class Ops>
struct distinct_tables;
template <class List>
struct distinct_tables<List, TypeList<>> {
  using type = List;
};
template <class List, class Op, class... Ops>
struct distinct_tables<List, TypeList<Op, Ops...>> {
  static constexpr auto more() {
    if constexpr (requires { Op::constant_tables(); }) return decltype(table_identities(Op::constant_tables())){};
    else return TypeList<>{};
  }
  using type = typename distinct_tables<typename concat_unique<List, decltype(more())>::type, TypeList<Ops...>>::type;
};
template <class... Ids>
constexpr std::size_t identity_bytes(TypeList<Ids...>) {
  return (std::size_t{0} + ... + Ids::bytes);
}

// Bytes of the tables that an op of Net lists after an earlier listing of the same table (the
// same object): weights several ops share (an unrolled recurrent network's steps), a shared
// constant operand, the int16 sigmoid table of every LSTM/Logistic/Tanh. Each op counts such a
// table in its weight_bytes; the image holds it once (Network::weight_bytes).
template <class Net>
constexpr std::size_t repeated_table_bytes() {
  std::size_t listed = 0;
  for_each_constant<Net>([&]<const auto& Table>() { listed += sizeof(Table); });
  return listed - identity_bytes(typename distinct_tables<TypeList<>, typename Net::op_list>::type{});
}

template <class T>
inline constexpr bool checksummable = table_traits<std::remove_cvref_t<T>>::supported;

// Calls g.template operator()<Table, K>() for every non-empty part K of every table of Net.
template <class Net, class G>
constexpr void for_each_part(G&& g) {
  for_each_constant<Net>([&]<const auto& Table>() {
    using T = std::remove_cvref_t<decltype(Table)>;
    if constexpr (checksummable<T>) {
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((part_bytes<K>(Table) > 0 ? g.template operator()<Table, K>() : void()), ...);
      }(std::make_index_sequence<part_count<T>()>{});
    }
  });
}

template <class Net>
constexpr std::size_t constant_count() {
  std::size_t n = 0;
  for_each_part<Net>([&]<const auto& Table, std::size_t K>() { ++n; });
  return n;
}

template <class Net>
constexpr std::uint32_t network_crc32() {
  std::uint32_t state = 0xFFFFFFFFu;
  for_each_part<Net>([&]<const auto& Table, std::size_t K>() { state = crc32_value(state, table_crc32<Table, K>); });
  return ~state;
}
}  // namespace detail

// CRC-32 over the CRCs of every part of every table of Net, computed by the compiler
// (Net::weights_checksum).
template <class Net>
inline constexpr std::uint32_t weights_checksum = detail::network_crc32<Net>();

// Number of byte ranges the checksum covers (one per array, one per member of a struct table),
// and their addresses and sizes (e.g. to checksum a copy).
template <class Net>
inline constexpr std::size_t constant_table_count = detail::constant_count<Net>();

template <class Net>
std::array<ConstantSpan, constant_table_count<Net>> constant_spans() {
  std::array<ConstantSpan, constant_table_count<Net>> spans{};
  std::size_t n = 0;
  detail::for_each_part<Net>([&]<const auto& Table, std::size_t K>() {
    spans[n++] = ConstantSpan{detail::part<K>(Table).first, detail::part_bytes<K>(Table)};
  });
  return spans;
}

// The network checksum of the tables at `spans` (same combination as weights_checksum).
inline std::uint32_t weights_checksum_of(std::span<const ConstantSpan> spans) {
  std::uint32_t state = 0xFFFFFFFFu;
  for (const ConstantSpan& s : spans) state = detail::crc32_value(state, crc32(s.data, s.bytes));
  return ~state;
}

// Recomputes the checksum from the tables in memory and compares it with the compiler's. Call it
// at boot (or periodically): false means the weights in flash are not the ones compiled in.
template <class Net>
bool verify_weights() {
  const auto spans = constant_spans<Net>();
  return weights_checksum_of(spans) == weights_checksum<Net>;
}

}  // namespace tinynet
