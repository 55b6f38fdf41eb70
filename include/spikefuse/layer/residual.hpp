// Residual<Body<…>, Shortcut<…>>: y = body(x) + shortcut(x), shortcut = identity when empty; backward ∂x = ∂body/∂x·∂y + ∂shortcut/∂x·∂y.
// Sequence<…>: its layers spliced in place.
//
// The network expands a block into its body's layers, its shortcut's layers (both reading the
// block's input) and one residual_add node, so the backends see a flat list of layers with sources.
#pragma once

#include "spikefuse/core/port.hpp"

namespace spikefuse {

template <class... Layers>
struct Body {};

/// The layers of a residual shortcut; `Shortcut<>` is the identity.
template <class... Layers>
struct Shortcut {};

template <class BodyList, class ShortcutList = Shortcut<>>
struct Residual;

template <class... B, class... S>
struct Residual<Body<B...>, Shortcut<S...>> {
  static_assert(sizeof...(B) > 0, "spikefuse: a Residual block needs at least one layer in its Body");
  static constexpr const char* name = "Residual";
};

/// Layers spliced in place: lets a reusable group (a pre-activation block, an optional dropout) be one
/// name in a Network. `Sequence<>` adds nothing.
template <class... Layers>
struct Sequence {};

template <class T>
inline constexpr bool is_sequence = false;
template <class... L>
inline constexpr bool is_sequence<Sequence<L...>> = true;

template <class T>
inline constexpr bool is_residual = false;
template <class B, class S>
inline constexpr bool is_residual<Residual<B, S>> = true;

/// The node that closes a Residual block: adds the body's and the shortcut's outputs.
template <class Block>
struct residual_add {
  static constexpr const char* name = "residual add";
  template <class In>
  using output = port<In::dims, signal::current>;
};

template <class T>
inline constexpr bool is_residual_add = false;
template <class B>
inline constexpr bool is_residual_add<residual_add<B>> = true;

}  // namespace spikefuse
