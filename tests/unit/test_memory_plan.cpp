// Memory does not grow with T: the plan is identical for T = 4 and T = 64, the CPU backend allocates
// exactly the plan, and training with T = 64 allocates nothing more.
#define BOOST_TEST_MODULE memory_plan
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <vector>

#include "spikefuse/spikefuse.hpp"

namespace sf = spikefuse;

using Net = sf::Network<sf::Input<1, 8, 8>, sf::Flatten, sf::Linear<32>, sf::OTTTLIF<>, sf::Scale<2.74f>,
                        sf::Dropout<0.25f>, sf::Linear<16>, sf::OTTTLIF<>, sf::Linear<10>>;

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
  // State: two neurons (v + trace each), one dropout mask, the logit sums.
  BOOST_TEST(p.state_bytes() == 4u * static_cast<std::size_t>(B) * (2 * 32 + 2 * 16 + 32 + 10));
  BOOST_TEST(p.layers[1].aliases_input);  // Flatten owns nothing
}

BOOST_AUTO_TEST_CASE(backend_allocates_the_plan_and_nothing_per_step) {
  const int B = 8;
  sf::cpu::model<Net> m(B, 2, 7);
  BOOST_TEST(m.allocated_bytes() == sf::make_plan<Net>(B, 64, 2).total_bytes());
  sf::optimizer_config oc;  // Adam
  sf::optimizer opt(oc);
  std::vector<std::uint8_t> labels(B, 3);
  for (const int T : {4, 64}) {
    std::vector<char> all(static_cast<std::size_t>(T), 1);
    const sf::step_encoder encode = [&](int t, float* x) {
      for (int i = 0; i < B * 64; ++i) x[i] = static_cast<float>((i * 7 + t) % 13) / 13.f;
    };
    const auto r = sf::train_batch(m, opt, 1e-3f, B, T, encode, labels, sf::loss_config{}, sf::update_schedule::per_batch, all);
    BOOST_TEST(r.samples == B);
    BOOST_TEST(m.allocated_bytes() == sf::make_plan<Net>(B, T, 2).total_bytes());
  }
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
