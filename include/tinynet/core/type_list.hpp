// A minimal type list: just what the network and the arena planner need.
#pragma once

#include <cstddef>
#include <type_traits>

namespace tinynet {

template <class... Ts>
struct TypeList {
  static constexpr std::size_t size = sizeof...(Ts);
};

namespace detail {

// index_of<T, TypeList<...>>: position of T, or the list size when absent.
template <class T, class List>
struct index_of;
template <class T>
struct index_of<T, TypeList<>> {
  static constexpr std::size_t value = 0;
};
template <class T, class Head, class... Tail>
struct index_of<T, TypeList<Head, Tail...>> {
  static constexpr std::size_t value =
      std::is_same_v<T, Head> ? 0 : 1 + index_of<T, TypeList<Tail...>>::value;
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

// at<I, TypeList<...>>
template <std::size_t I, class List>
struct at;
template <class Head, class... Tail>
struct at<0, TypeList<Head, Tail...>> {
  using type = Head;
};
template <std::size_t I, class Head, class... Tail>
struct at<I, TypeList<Head, Tail...>> {
  using type = typename at<I - 1, TypeList<Tail...>>::type;
};

}  // namespace detail

template <std::size_t I, class List>
using type_at = typename detail::at<I, List>::type;

}  // namespace tinynet
