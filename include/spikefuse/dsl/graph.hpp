// Layer graph: the declared layers expanded into nodes 1..n, node i reading node source (and second_source for a residual add); a chain has source = i − 1.
//
// A Residual<Body<B...>, Shortcut<S...>> whose input is node f becomes the nodes B... (the first reads
// f), then S... (the first reads f), then residual_add reading the last body node and the last
// shortcut node (f itself when the shortcut is empty). Blocks nest.
#pragma once

#include "spikefuse/layer/residual.hpp"

namespace spikefuse::dsl {

template <class Layer, int Source, int SecondSource = -1>
struct node {
  using layer = Layer;
  static constexpr int source = Source;
  static constexpr int second_source = SecondSource;
};

template <class... Nodes>
struct node_list {
  static constexpr int size = sizeof...(Nodes);
};

template <class... Lists>
struct concat;
template <class... A>
struct concat<node_list<A...>> {
  using type = node_list<A...>;
};
template <class... A, class... B, class... Rest>
struct concat<node_list<A...>, node_list<B...>, Rest...> {
  using type = typename concat<node_list<A..., B...>, Rest...>::type;
};

/// expand<Next, Source, Layers...>: nodes numbered from Next, the first reading Source; `last` is the
/// node whose output leaves the sequence (Source when the sequence is empty), `next` the next free number.
template <int Next, int Source, class... Layers>
struct expand {
  using type = node_list<>;
  static constexpr int last = Source;
  static constexpr int next = Next;
};

template <int Next, int Source, class Layer>
struct expand_one {
  using type = node_list<node<Layer, Source>>;
  static constexpr int last = Next;
  static constexpr int next = Next + 1;
};

template <int Next, int Source, class... B, class... S>
struct expand_one<Next, Source, Residual<Body<B...>, Shortcut<S...>>> {
  using body = expand<Next, Source, B...>;
  using shortcut = expand<body::next, Source, S...>;
  using type = typename concat<typename body::type, typename shortcut::type,
                               node_list<node<residual_add<Residual<Body<B...>, Shortcut<S...>>>, body::last,
                                              shortcut::last>>>::type;
  static constexpr int last = shortcut::next;
  static constexpr int next = shortcut::next + 1;
};

template <int Next, int Source, class... L>
struct expand_one<Next, Source, Sequence<L...>> : expand<Next, Source, L...> {};

template <int Next, int Source, class Layer, class... Rest>
struct expand<Next, Source, Layer, Rest...> {
  using head = expand_one<Next, Source, Layer>;
  using tail = expand<head::next, head::last, Rest...>;
  using type = typename concat<typename head::type, typename tail::type>::type;
  static constexpr int last = tail::last;
  static constexpr int next = tail::next;
};

template <int I, class List>
struct node_at;
template <int I, class First, class... Rest>
struct node_at<I, node_list<First, Rest...>> : node_at<I - 1, node_list<Rest...>> {};
template <class First, class... Rest>
struct node_at<0, node_list<First, Rest...>> {
  using type = First;
};

}  // namespace spikefuse::dsl
