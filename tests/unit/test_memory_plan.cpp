// Memory does not grow with T: the plan is identical for T = 4 and T = 64, the CPU backend allocates
// exactly the plan, and a training batch makes the same heap allocations for T = 4 and T = 64.
#define BOOST_TEST_MODULE memory_plan
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <utility>
#include <cstdlib>
#include <new>
#include <sstream>
#include <vector>

#include "spikefuse/models/fashion_mnist_csnn.hpp"
#include "spikefuse/models/sltt_resnet18.hpp"
#include "spikefuse/spikefuse.hpp"
#include "support/plan_checks.hpp"

// GCC pairs the inlined replacement new/delete below wrongly and warns; they do match.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// Every heap allocation of this test program is counted, so "training allocates nothing per step"
// is measured, not assumed.
namespace {
std::atomic<long long> heap_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  ++heap_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  ++heap_allocations;
  const std::size_t align = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace sf = spikefuse;

using Net = sf::Network<sf::Input<1, 8, 8>, sf::Flatten, sf::Linear<32>, sf::OTTTLIF<>, sf::Scale<2.74f>,
                        sf::Dropout<0.25f>, sf::Linear<16>, sf::OTTTLIF<>, sf::Linear<10>>;

// A guard, not the evidence: make_plan records T without using it, so this fails only when someone
// adds a buffer that grows with T. The evidence that training memory is flat in T is the heap count of
// backend_allocates_the_plan_and_nothing_per_step below (and the peak memory of bench/compare's sweep).
BOOST_AUTO_TEST_CASE(plan_bytes_are_identical_for_t4_and_t64) {
  const auto p4 = sf::make_plan<Net>(32, 4, 2);
  const auto p64 = sf::make_plan<Net>(32, 64, 2);
  BOOST_TEST(p4.total_bytes() == p64.total_bytes());
  BOOST_TEST(p4.state_bytes() == p64.state_bytes());
  BOOST_TEST(p4.workspace_bytes() == p64.workspace_bytes());
  BOOST_TEST(p4.total_bytes() > 0u);
}

BOOST_AUTO_TEST_CASE(plan_counts_each_buffer) {
  const int B = 32;
  const auto p = sf::make_plan<Net>(B, 4, 2);
  // Parameters: 64·32+32 + 32·16+16 + 16·10+10.
  BOOST_TEST(p.parameter_count() == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10);
  BOOST_TEST(p.parameter_count() == Net::parameter_count());
  BOOST_TEST(p.parameter_bytes() == 4u * static_cast<std::size_t>(p.parameter_count()) * 4u);  // p, grad, 2 Adam slots
  // State: two neurons (v + trace each), one dropout mask, the logit sums, and the first Linear's
  // Σ_t ∂out (it reads only the input: one weight-gradient GEMM per batch with a static input).
  BOOST_TEST(p.state_bytes() == 4u * static_cast<std::size_t>(B) * (2 * 32 + 2 * 16 + 32 + 10 + 32));
  BOOST_TEST(p.layers[2].floats.grad_sum == B * 32);
  BOOST_TEST(p.layers[6].floats.grad_sum == 0);  // reads spikes, which change every step
  BOOST_TEST(p.layers[8].floats.grad_sum == 0);
  BOOST_TEST(p.layers[1].aliases_input);  // Flatten owns nothing
}

BOOST_AUTO_TEST_CASE(backend_allocates_the_plan_and_nothing_per_step) {
  const int B = 8;
  sf::cpu::model<Net> m(B, 2, 7);
  BOOST_TEST(m.allocated_bytes() == sf::make_plan<Net>(B, 64, 2).total_bytes());
  sf::optimizer opt(sf::optimizer_config{});  // Adam
  const std::vector<std::uint8_t> labels(B, 3);
  const sf::step_encoder encode = [](int t, float* x) {
    for (int i = 0; i < B * 64; ++i) x[i] = static_cast<float>((i * 7 + t) % 13) / 13.f;
  };
  const std::vector<char> all4(4, 1), all64(64, 1);
  const sf::loss_config loss;
  // Warm-up batch: OpenMP and OpenBLAS allocate their thread pools and buffers once.
  sf::train_batch(m, opt, 1e-3f, B, 4, encode, labels, loss, sf::update_schedule::per_batch, all4);
  long long per_batch[2];
  int i = 0;
  for (const auto* steps : {&all4, &all64}) {
    const int T = static_cast<int>(steps->size());
    const long long before = heap_allocations.load();
    const auto r = sf::train_batch(m, opt, 1e-3f, B, T, encode, labels, loss, sf::update_schedule::per_batch, *steps);
    per_batch[i++] = heap_allocations.load() - before;
    BOOST_TEST(r.samples == B);
  }
  // The same (small, T-independent) number of allocations for 4 and 64 steps: nothing per step.
  BOOST_TEST(per_batch[0] == per_batch[1]);
  BOOST_TEST(per_batch[1] < 64);
  BOOST_TEST(m.allocated_bytes() == sf::make_plan<Net>(B, 4, 2).total_bytes());
}

BOOST_AUTO_TEST_CASE(print_shows_layers_and_totals) {
  std::ostringstream os;
  sf::print(os, sf::make_plan<Net>(16, 4, 1));
  const auto s = os.str();
  BOOST_TEST(s.find("Linear<32>") != std::string::npos);
  BOOST_TEST(s.find("OTTTLIF<tau=2, theta=1, soft reset, Sigmoid<4>>") != std::string::npos);
  BOOST_TEST(s.find("Dropout<0.25>") != std::string::npos);
  BOOST_TEST(s.find("independent of T") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(print_keeps_long_names_apart_from_the_next_column) {
  // SpikingJelly's SLTTLIFNode defaults print as 66 characters, past the table's 64.
  using Long = sf::Network<sf::Input<784>, sf::Linear<800>, sf::SLTTLIF<>, sf::Linear<10>>;
  std::ostringstream os;
  sf::print(os, sf::make_plan<Long>(16, 4, 1));
  const auto s = os.str();
  const std::string name = "SLTTLIF<tau=2, decay_input, theta=1, hard reset to 0, Sigmoid<4>>";
  BOOST_TEST_REQUIRE(name.size() > 64);
  const auto at = s.find(name);
  BOOST_TEST_REQUIRE(at != std::string::npos, s);
  BOOST_TEST(s.substr(at + name.size(), 2) == "  ", s);
  // The header's columns line up with the rows: "output" starts where the rows' shapes do.
  const auto header_output = s.find("output") - s.rfind('\n', s.find("output"));
  const auto row_shape = s.find("800", at + name.size()) - s.rfind('\n', at);
  BOOST_TEST(header_output == row_shape, s);
}

// ---- ∂ buffers shared by liveness --------------------------------------------------------------

namespace {

using sf::testing::memory_overlaps;

void check_plan_liveness(const sf::memory_plan& p) {
  sf::testing::check_plan_liveness(p, [](bool ok, const std::string& what) { BOOST_TEST(ok, what); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(liveness_places_live_buffers_apart) {
  sf::uniform01 uniform(11);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<sf::dsl::live_buffer> buffers(2 + trial % 30);
    for (auto& b : buffers) {
      b.floats = 1 + static_cast<long long>(uniform() * 1000);
      b.first = static_cast<int>(uniform() * 20);
      b.last = b.first + static_cast<int>(uniform() * 5);
    }
    const long long pool = sf::dsl::place_by_liveness(buffers, 64);
    long long busiest = 0;  // no placement beats the most floats live in one slot
    for (int t = 0; t < 25; ++t) {
      long long live = 0;
      for (const auto& b : buffers) live += (b.first <= t && t <= b.last) ? b.floats : 0;
      busiest = std::max(busiest, live);
    }
    BOOST_TEST(pool >= busiest);
    BOOST_TEST(sf::dsl::most_live_at_once(buffers) == busiest);
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      BOOST_TEST(buffers[i].offset % 64 == 0);
      BOOST_TEST(buffers[i].offset + buffers[i].floats <= pool);
      for (std::size_t j = i + 1; j < buffers.size(); ++j)
        if (sf::dsl::live_together(buffers[i], buffers[j]))
          BOOST_TEST(!memory_overlaps(buffers[i].offset, buffers[i].floats, buffers[j].offset, buffers[j].floats));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_chain_needs_two_gradient_buffers) {
  // Slot k is live in k and k + 1, as ∂ buffers of a chain are: the pool is the largest neighbour pair.
  std::vector<sf::dsl::live_buffer> chain;
  const long long sizes[] = {256, 1024, 512, 2048, 128};
  for (int k = 0; k < 5; ++k) chain.push_back({sizes[k], k, k + 1});
  BOOST_TEST(sf::dsl::place_by_liveness(chain, 64) == 2048 + 512);
}

using ConvNet = sf::Network<sf::Input<3, 8, 8>, sf::Conv2d<8, 3, sf::conv_opts{.padding = 1}>, sf::OTTTLIF<>, sf::Scale<2.74f>,
                            sf::AvgPool2d<2>, sf::Conv2d<16, 3, sf::conv_opts{.padding = 1}>, sf::OTTTLIF<>, sf::Scale<2.74f>,
                            sf::Conv2d<16, 3, sf::conv_opts{.padding = 1}>, sf::OTTTLIF<>, sf::Flatten, sf::Linear<10>>;

BOOST_AUTO_TEST_CASE(pooled_buffers_are_apart_wherever_one_kernel_uses_two_at_once) {
  for (const auto& p : {sf::make_plan<Net>(32, 4, 2), sf::make_plan<ConvNet>(16, 4, 1),
                        sf::make_plan<sf::models::fashion_mnist_csnn<sf::OTTTLIF<>>>(8, 4, 1),
                        sf::make_plan<sf::models::sltt_preact_resnet18<>>(2, 4, 1)}) {
    check_plan_liveness(p);
    BOOST_TEST(p.shared_pool > 0);
    BOOST_TEST(sizeof(float) * static_cast<std::size_t>(p.shared_pool) < p.unshared_bytes());
    BOOST_TEST(p.layers.back().grad_out_at == -1);  // the head's ∂ is the caller's (logits_grad)
  }
  // The ResNet's adds write ∂ through scratch into sources that another node also feeds.
  const auto resnet = sf::make_plan<sf::models::sltt_preact_resnet18<>>(2, 4, 1);
  BOOST_TEST(std::any_of(resnet.layers.begin(), resnet.layers.end(), [](const auto& l) { return l.grad_scratch_at >= 0; }));
}
