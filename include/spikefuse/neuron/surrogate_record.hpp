// What a neuron's forward keeps for its backward: ψ = g'(h − θ) as one float per neuron, or one spike bit per neuron (bit i of word ⌊i/32⌋) and ψ = g'(s ? v : v − θ) from the state.
//
// The spike bits are what makes a soft-reset neuron's backward cost 1/32 of ψ's memory
// (lif::psi_from_state). Forward writes one or the other; backward reads ψ, or the bits and the
// membrane the forward left in the state. Backends pick per neuron: bits where the reset is soft and
// the backward runs before the neuron's next forward, ψ otherwise (a hard reset; a kernel benchmark
// that runs a whole sequence forward before its backward).
#pragma once

#include <cstdint>
#include <stdexcept>

#include "spikefuse/config.hpp"
#include "spikefuse/core/phase.hpp"
#include "spikefuse/neuron/lif_math.hpp"

namespace spikefuse::lif {

/// A word of 32 spike bits. Backends keep the words in float-sized slots of the pool that other
/// buffers use as floats at other times; may_alias keeps the compiler from reordering the two kinds
/// of access by type.
#if defined(__GNUC__) || defined(__clang__)
typedef std::uint32_t __attribute__((__may_alias__)) spike_word;
#else
typedef std::uint32_t spike_word;
#endif

/// 32-bit words for `bits` spike bits.
SF_HOST_DEVICE constexpr long long spike_bit_words(long long bits) { return (bits + 31) / 32; }

SF_HOST_DEVICE bool spike_bit(const spike_word* words, long long bit) {
  return ((words[bit >> 5] >> (bit & 31)) & 1u) != 0u;
}

/// What a forward step keeps for its backward (a compile-time choice of the kernels).
enum class kept_for_backward { nothing, psi, spike_bits };

/// Where a forward step writes what its backward needs; both null when no backward follows.
struct surrogate_record {
  float* psi = nullptr;                 // ψ of every neuron
  spike_word* spike_bits = nullptr;  // or the spikes, one bit each (soft reset only)
};

/// Where a backward step reads ψ from: the stored ψ, or the spike bits with the membrane after the
/// step (the neuron's state, untouched until the next forward).
struct surrogate_source {
  const float* psi = nullptr;
  const spike_word* spike_bits = nullptr;
  const float* v = nullptr;
};

/// What a forward step in phase `ph` keeps, from where `record` points (host side; both backends
/// pick their loops or kernels by it). Throws on a record this neuron cannot use.
template <class Neuron>
kept_for_backward kept_by(phase ph, const surrogate_record& record) {
  if (ph != phase::train) return kept_for_backward::nothing;
  if (record.spike_bits) {
    if (!psi_from_state_exact<Neuron::params>)
      throw std::logic_error("spikefuse: internal: spike bits need a soft reset; this neuron keeps ψ");
    return kept_for_backward::spike_bits;
  }
  if (!record.psi) throw std::logic_error("spikefuse: internal: a training step's forward needs ψ or spike bits for its backward");
  return kept_for_backward::psi;
}

/// Whether a backward step recomputes ψ from `source`'s spike bits (true) or reads it stored
/// (false). Throws on a source this neuron cannot use.
template <class Neuron>
bool psi_from_spike_bits(const surrogate_source& source) {
  if (source.spike_bits) {
    if (!psi_from_state_exact<Neuron::params>)
      throw std::logic_error("spikefuse: internal: spike bits need a soft reset; this neuron keeps ψ");
    if (!source.v) throw std::logic_error("spikefuse: internal: ψ from spike bits needs the membrane");
    return true;
  }
  if (!source.psi) throw std::logic_error("spikefuse: internal: the neuron's backward has neither ψ nor spike bits");
  return false;
}

/// ψ of neuron `i`, whose spike is bit `bit` (the element index, unless a fused kernel numbers its
/// bits otherwise). FromBits: the source holds spike bits; otherwise ψ.
template <class Neuron, bool FromBits>
SF_HOST_DEVICE float psi_at(const surrogate_source& source, long long i, long long bit) {
  if constexpr (FromBits) {
    return psi_from_state<Neuron::params, typename Neuron::surrogate_type>(source.v[i], spike_bit(source.spike_bits, bit));
  } else {
    return source.psi[i];
  }
}

}  // namespace spikefuse::lif
