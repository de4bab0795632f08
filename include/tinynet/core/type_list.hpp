// A minimal type list: just what the network and the arena planner need.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace tinynet {

template <class... Ts>
struct TypeList {
  static constexpr std::size_t size = sizeof...(Ts);
};

namespace detail {

// index_of<T, TypeList<...>>: position of T, or the list size when absent. One instantiation per
// (T, list), not one per element: a network of a few hundred tensors (an unrolled RNN) compiles in
// memory and time linear in the list for each lookup, where the recursive form was quadratic.
template <class T, class List>
struct index_of;
template <class T, class... Ts>
struct index_of<T, TypeList<Ts...>> {
  static constexpr std::size_t value = [] {
    constexpr bool same[] = {std::is_same_v<T, Ts>..., false};
    std::size_t i = 0;
    while (i < sizeof...(Ts) && !same[i]) ++i;
    return i;
  }();
};

template <class T, class List>
inline constexpr bool contains = index_of<T, List>::value < List::size;

// append_unique<List, T>: List with T added at the end unless already present.
template <class List, class T>
struct append_unique;
template <class... Ts, class T>
struct append_unique<TypeList<Ts...>, T> {
  using type = std::conditional_t<(std::is_same_v<T, Ts> || ...), TypeList<Ts...>, TypeList<Ts..., T>>;
};

// concat_unique<List, TypeList<Us...>>
template <class List, class More>
struct concat_unique;
template <class List>
struct concat_unique<List, TypeList<>> {
  using type = List;
};
template <class List, class U, class... Us>
struct concat_unique<List, TypeList<U, Us...>> {
  using type = typename concat_unique<typename append_unique<List, U>::type, TypeList<Us...>>::type;
};

// at<I, TypeList<...>>: the list's types as bases indexed by position (one instantiation per list),
// the I-th picked by overload resolution; no recursion over the list, for the same reason as index_of.
template <std::size_t I, class T>
struct indexed {
  using type = T;
};
template <class Sequence, class... Ts>
struct indexer;
template <std::size_t... Is, class... Ts>
struct indexer<std::index_sequence<Is...>, Ts...> : indexed<Is, Ts>... {};
template <std::size_t I, class T>
indexed<I, T> select(const indexed<I, T>&);

template <std::size_t I, class List>
struct at;
template <std::size_t I, class... Ts>
struct at<I, TypeList<Ts...>> {
  static_assert(I < sizeof...(Ts), "tinynet::type_at: index past the end of the list");
  using type = typename decltype(select<I>(indexer<std::index_sequence_for<Ts...>, Ts...>{}))::type;
};

}  // namespace detail

template <std::size_t I, class List>
using type_at = typename detail::at<I, List>::type;

}  // namespace tinynet
