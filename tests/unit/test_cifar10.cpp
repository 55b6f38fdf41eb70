// CIFAR-10 tests: reader (layout, every error), normalisation, augmentation, synthetic data.
#define BOOST_TEST_MODULE test_cifar10
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>


#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <numeric>
#include <random>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "spikefuse/data/cifar10.hpp"
#include "spikefuse/data/encoding.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
namespace sd = spikefuse::data;

namespace {

using bytes = std::vector<std::uint8_t>;
constexpr int side = 32;
constexpr int plane = side * side;
constexpr int image = 3 * plane;

/// The fixture pixel byte of record `seq` (a running number across files) at (c, y, x): every
/// position and record gets a different pattern, so a mixed-up plane, row or record shows.
std::uint8_t fixture_pixel(int seq, int c, int y, int x) {
  return static_cast<std::uint8_t>((seq * 37 + c * 85 + y * 7 + x * 3) & 0xFF);
}

/// One 3073-byte record: label, then the R, G, B planes of 32 x 32 row-major.
bytes record(std::uint8_t label, int seq) {
  bytes b{label};
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) b.push_back(fixture_pixel(seq, c, y, x));
  return b;
}

struct temp_dir : spikefuse::test::temp_dir {
  temp_dir() : spikefuse::test::temp_dir("cifar10") {}
};

// Records per file in the fake set: data_batch_1..5, then test_batch.
constexpr std::array<int, 6> fake_records = {2, 1, 3, 1, 2, 2};

std::uint8_t fake_label(int seq) { return static_cast<std::uint8_t>((seq * 3 + 1) % 10); }

/// Writes the six fake batch files into dir; record seq runs 0..10 over the files in order.
void write_fake_set(const temp_dir& t, const fs::path& dir) {
  fs::create_directories(dir);
  int seq = 0;
  for (std::size_t f = 0; f < 6; ++f) {
    bytes b;
    for (int r = 0; r < fake_records[f]; ++r, ++seq) {
      const bytes rec = record(fake_label(seq), seq);
      b.insert(b.end(), rec.begin(), rec.end());
    }
    t.write(dir / (f < 5 ? sd::cifar10_train_files[f] : sd::cifar10_test_file), b);
  }
}

/// Checks that d holds fixture records first_seq, first_seq + 1, ... exactly.
void check_fixture_records(const sd::image_dataset& d, int first_seq, int n) {
  BOOST_TEST(d.count == n);
  BOOST_TEST(d.channels == 3);
  BOOST_TEST(d.rows == 32);
  BOOST_TEST(d.cols == 32);
  BOOST_TEST(d.num_classes == 10);
  BOOST_TEST(d.features() == 3072);
  BOOST_REQUIRE(d.images.size() == static_cast<std::size_t>(n) * image);
  BOOST_REQUIRE(d.labels.size() == static_cast<std::size_t>(n));
  int bad = 0;
  for (int i = 0; i < n; ++i) {
    const int seq = first_seq + i;
    BOOST_TEST(d.labels[static_cast<std::size_t>(i)] == fake_label(seq));
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x) {
          const auto k = static_cast<std::size_t>(i * image + c * plane + y * side + x);
          const float got = d.images[k];
          const float want = static_cast<float>(fixture_pixel(seq, c, y, x)) / 255.0f;
          if (got != want && bad++ < 5) {
            BOOST_ERROR("sample " << i << " (c, y, x) = (" << c << ", " << y << ", " << x
                                  << "): " << got << " != " << want);
          }
        }
  }
  BOOST_TEST(bad == 0);
}

/// Runs f, which must throw E whose message contains every one of `parts`.
template <class E = sd::data_error, class F>
void check_throws_with(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    BOOST_ERROR("no exception thrown; expected one mentioning '" << *parts.begin() << "'");
  } catch (const E& e) {
    const std::string msg = e.what();
    BOOST_TEST_MESSAGE("message: " << msg);
    for (const auto& p : parts) {
      BOOST_TEST(msg.find(p) != std::string::npos, "'" << msg << "' should contain '" << p << "'");
    }
    BOOST_TEST(msg.find('\n') == std::string::npos, "message should be one line: " << msg);
  }
}

const std::string url = "https://www.cs.toronto.edu/~kriz/cifar.html";

/// A (3, 32, 32) image whose every value is distinct and nonzero, so a zero marks padding.
std::vector<float> distinct_image() {
  std::vector<float> v(image);
  for (int k = 0; k < image; ++k) v[static_cast<std::size_t>(k)] = 1.0f + static_cast<float>(k);
  return v;
}

float at(const std::vector<float>& v, int c, int y, int x) {
  return v[static_cast<std::size_t>(c * plane + y * side + x)];
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reader)

BOOST_AUTO_TEST_CASE(reads_fake_set_exactly) {
  temp_dir t;
  write_fake_set(t, t.path);
  const sd::cifar10_paths p = sd::cifar10_layout(t.path.string());
  BOOST_REQUIRE(p.train.size() == 5u);
  BOOST_TEST(p.train[0] == t.file("data_batch_1.bin"));
  BOOST_TEST(p.train[4] == t.file("data_batch_5.bin"));
  BOOST_TEST(p.test == t.file("test_batch.bin"));

  const sd::cifar10_split s = sd::load_cifar10(t.path.string());
  check_fixture_records(s.train, 0, 9);  // 2 + 1 + 3 + 1 + 2, files in order
  check_fixture_records(s.test, 9, 2);
}

BOOST_AUTO_TEST_CASE(planes_are_r_g_b_and_scaled) {
  temp_dir t;
  // One record: R plane 255, G plane 0, B plane 128 except the last B pixel, 1.
  bytes b{7};
  b.insert(b.end(), plane, 255);
  b.insert(b.end(), plane, 0);
  b.insert(b.end(), plane - 1, 128);
  b.push_back(1);
  const std::string p = t.write(t.path / "one.bin", b);
  const std::vector<std::string> paths = {p};
  const sd::image_dataset d = sd::read_cifar10_batches(paths);
  BOOST_REQUIRE(d.count == 1);
  BOOST_TEST(d.labels[0] == 7);
  BOOST_TEST(d.images[0] == 1.0f);
  BOOST_TEST(d.images[plane - 1] == 1.0f);
  BOOST_TEST(d.images[plane] == 0.0f);
  BOOST_TEST(d.images[2 * plane - 1] == 0.0f);
  BOOST_TEST(d.images[2 * plane] == 128.0f / 255.0f);
  BOOST_TEST(d.images[image - 1] == 1.0f / 255.0f);
}

BOOST_AUTO_TEST_CASE(accepts_archive_folder) {
  temp_dir t;
  write_fake_set(t, t.path / "cifar-10-batches-bin");
  const sd::cifar10_paths p = sd::cifar10_layout(t.path.string());
  BOOST_TEST(p.test == (t.path / "cifar-10-batches-bin" / "test_batch.bin").string());
  const sd::cifar10_split s = sd::load_cifar10(t.path.string());
  check_fixture_records(s.train, 0, 9);
  check_fixture_records(s.test, 9, 2);
}

BOOST_AUTO_TEST_CASE(max_counts_keep_the_first_records) {
  temp_dir t;
  write_fake_set(t, t.path);
  const sd::cifar10_split s = sd::load_cifar10(t.path.string(), 4, 1);
  check_fixture_records(s.train, 0, 4);  // crosses into the third file
  check_fixture_records(s.test, 9, 1);
  const sd::cifar10_split none = sd::load_cifar10(t.path.string(), 0, 0);
  BOOST_TEST(none.train.count == 0);
  BOOST_TEST(none.train.images.empty());
  BOOST_TEST(none.train.channels == 3);
  // Files past the requested records are not read: a broken data_batch_5 goes unnoticed at 4.
  t.write(t.path / "data_batch_5.bin", bytes{1, 2, 3});
  BOOST_TEST(sd::load_cifar10(t.path.string(), 4, 1).train.count == 4);
  check_throws_with([&] { sd::load_cifar10(t.path.string()); }, {"data_batch_5.bin"});
  const std::vector<std::string> paths = {t.file("data_batch_1.bin")};
  check_throws_with<std::invalid_argument>([&] { sd::read_cifar10_batches(paths, -1); },
                                           {"max_count"});
}

BOOST_AUTO_TEST_CASE(missing_files) {
  temp_dir t;
  write_fake_set(t, t.path);
  fs::remove(t.path / "data_batch_3.bin");
  fs::remove(t.path / "test_batch.bin");
  const std::string p3 = t.file("data_batch_3.bin"), pt = t.file("test_batch.bin");
  try {
    sd::load_cifar10(t.path.string());
    BOOST_ERROR("load_cifar10 should throw");
  } catch (const sd::data_error& e) {
    const std::string msg = e.what();
    BOOST_TEST_MESSAGE("message: " << msg);
    BOOST_TEST(msg.find("'" + p3 + "'") != std::string::npos);
    BOOST_TEST(msg.find("'" + pt + "'") != std::string::npos);
    BOOST_TEST(msg.find("'" + t.file("data_batch_1.bin") + "'") == std::string::npos);
    BOOST_TEST(msg.find(url) != std::string::npos);
    BOOST_TEST(msg.find("binary version") != std::string::npos);
    BOOST_TEST(msg.find('\n') == std::string::npos);
  }
  // A single batch read directly.
  const std::vector<std::string> paths = {p3};
  check_throws_with([&] { sd::read_cifar10_batches(paths); }, {p3, "not found", url});
  // No directory at all.
  const std::string nodir = t.file("no_such_dir");
  check_throws_with([&] { sd::load_cifar10(nodir); }, {nodir, "not found", url});
  // An empty directory: all six named.
  temp_dir empty;
  check_throws_with([&] { sd::cifar10_layout(empty.path.string()); },
                    {empty.file("data_batch_1.bin"), empty.file("data_batch_5.bin"),
                     empty.file("test_batch.bin"), url});
  // The Python version's names are recognised in the message.
  empty.write(empty.path / "data_batch_1", bytes{0x80});
  check_throws_with([&] { sd::cifar10_layout(empty.path.string()); }, {"Python version"});
  // A directory where a batch file should be.
  const std::vector<std::string> dir_as_file = {t.path.string()};
  check_throws_with([&] { sd::read_cifar10_batches(dir_as_file); }, {t.path.string(), "directory"});
}

BOOST_AUTO_TEST_CASE(truncated_and_empty_files) {
  temp_dir t;
  bytes two = record(1, 0);
  const bytes second = record(2, 1);
  two.insert(two.end(), second.begin(), second.end());
  two.resize(two.size() - 5);  // 6141 bytes
  const std::string cut = t.write(t.path / "cut.bin", two);
  const std::vector<std::string> p1 = {cut};
  check_throws_with([&] { sd::read_cifar10_batches(p1); },
                    {cut, "6141 bytes", "not a multiple", "3073"});
  // Even when only the first (complete) record is asked for.
  check_throws_with([&] { sd::read_cifar10_batches(p1, 1); }, {cut, "not a multiple"});

  const std::string empty = t.write(t.path / "empty.bin", bytes{});
  const std::vector<std::string> p3 = {empty};
  check_throws_with([&] { sd::read_cifar10_batches(p3); }, {empty, "empty"});

  // In the directory layout, the message names the bad batch.
  write_fake_set(t, t.path / "set");
  const std::string b4 = (t.path / "set" / "data_batch_4.bin").string();
  t.write(b4, bytes(3073 + 100, 0));
  check_throws_with([&] { sd::load_cifar10((t.path / "set").string()); },
                    {b4, "3173 bytes", "not a multiple"});
}

BOOST_AUTO_TEST_CASE(label_out_of_range) {
  temp_dir t;
  bytes b = record(9, 0);
  const bytes bad = record(10, 1);
  b.insert(b.end(), bad.begin(), bad.end());
  const std::string p = t.write(t.path / "bad_label.bin", b);
  const std::vector<std::string> paths = {p};
  check_throws_with([&] { sd::read_cifar10_batches(paths); },
                    {p, "label out of range", "record 1", "value 10", "[0, 10)"});
  BOOST_TEST(sd::read_cifar10_batches(paths, 1).labels[0] == 9);  // label 9 is valid
  b[0] = 255;
  t.write(p, b);
  check_throws_with([&] { sd::read_cifar10_batches(paths); }, {p, "record 0", "value 255"});
}

BOOST_AUTO_TEST_CASE(to_dataset_feeds_the_encoders) {
  const sd::image_dataset img = sd::synthetic_cifar10(3, 5);
  const sd::dataset d = sd::to_dataset(img);  // a copy: img is used below
  BOOST_TEST(d.count == 3);
  BOOST_TEST(d.features() == 3072);
  BOOST_TEST(d.rows == 96);
  BOOST_TEST(d.cols == 32);
  BOOST_TEST(d.num_classes == 10);
  BOOST_TEST(d.labels == img.labels, boost::test_tools::per_element());
  const std::vector<int> idx = {2, 0};
  std::vector<float> a(2 * image), b(2 * image);
  sd::encode_direct(d, idx, a.data());
  sd::copy_batch(img, idx, b.data());
  BOOST_TEST(a == b, boost::test_tools::per_element());
  BOOST_TEST(std::equal(b.begin(), b.begin() + image, img.images.begin() + 2 * image));
  const std::vector<int> bad = {3};
  BOOST_CHECK_THROW(sd::copy_batch(img, bad, b.data()), std::out_of_range);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(normalisation)

BOOST_AUTO_TEST_CASE(cifar10_mean_and_std) {
  // Values 0, 1 and 0.5 in each channel of one image; expected from the OTTT/SLTT constants.
  std::vector<float> v(image, 0.5f);
  for (int c = 0; c < 3; ++c) {
    v[static_cast<std::size_t>(c * plane)] = 0.0f;
    v[static_cast<std::size_t>(c * plane + 1)] = 1.0f;
  }
  sd::normalize_cifar10(v.data(), 1);
  const double mean[3] = {0.4914, 0.4822, 0.4465}, sd_[3] = {0.2023, 0.1994, 0.2010};
  for (int c = 0; c < 3; ++c) {
    const auto k = static_cast<std::size_t>(c * plane);
    BOOST_TEST(v[k] == -mean[c] / sd_[c], boost::test_tools::tolerance(1e-5));
    BOOST_TEST(v[k + 1] == (1.0 - mean[c]) / sd_[c], boost::test_tools::tolerance(1e-5));
    BOOST_TEST(v[k + plane - 1] == (0.5 - mean[c]) / sd_[c], boost::test_tools::tolerance(1e-5));
  }
  // Hand-written anchors: R at 0 and B at 1.
  BOOST_TEST(v[0] == -2.429065f, boost::test_tools::tolerance(1e-5f));
  BOOST_TEST(v[2 * plane + 1] == 2.753731f, boost::test_tools::tolerance(1e-5f));
  // Bit-exact with subtract-then-divide in float, as torchvision's Normalize.
  BOOST_TEST(v[plane + 1] == (1.0f - 0.4822f) / 0.1994f);
}

BOOST_AUTO_TEST_CASE(dataset_and_batch_agree) {
  sd::image_dataset d = sd::synthetic_cifar10(4, 11);
  std::vector<float> batch = d.images;
  sd::normalize_cifar10(d);
  sd::normalize_cifar10(batch.data(), 4);
  BOOST_TEST(d.images == batch, boost::test_tools::per_element());
  // Sample 3's G plane uses G's constants.
  const sd::image_dataset raw = sd::synthetic_cifar10(4, 11);
  const std::size_t k = 3 * image + plane + 17;
  BOOST_TEST(d.images[k] == (raw.images[k] - 0.4822f) / 0.1994f);

  sd::image_dataset grey;
  grey.channels = 1;
  BOOST_CHECK_THROW(sd::normalize_cifar10(grey), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(augmentation)

BOOST_AUTO_TEST_CASE(crop_at_origin_pads_with_zeros) {
  const std::vector<float> src = distinct_image();
  std::vector<float> out(image, -1.0f);
  sd::apply_crop_flip(src.data(), out.data(), 3, 32, 32, 4, {0, 0, false});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const float want = (y < 4 || x < 4) ? 0.0f : at(src, c, y - 4, x - 4);
        BOOST_TEST(at(out, c, y, x) == want, "(c, y, x) = (" << c << ", " << y << ", " << x << ")");
      }
  // The opposite corner: padding on the bottom and right.
  sd::apply_crop_flip(src.data(), out.data(), 3, 32, 32, 4, {8, 8, false});
  BOOST_TEST(at(out, 0, 0, 0) == at(src, 0, 4, 4));
  BOOST_TEST(at(out, 2, 27, 27) == at(src, 2, 31, 31));
  BOOST_TEST(at(out, 1, 28, 0) == 0.0f);
  BOOST_TEST(at(out, 1, 0, 28) == 0.0f);
  BOOST_CHECK_THROW(sd::apply_crop_flip(src.data(), out.data(), 3, 32, 32, 4, {9, 0, false}),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(centre_crop_is_identity_and_flip_mirrors) {
  const std::vector<float> src = distinct_image();
  std::vector<float> out(image), back(image);
  sd::apply_crop_flip(src.data(), out.data(), 3, 32, 32, 4, {4, 4, false});
  BOOST_TEST(out == src, boost::test_tools::per_element());

  sd::apply_crop_flip(src.data(), out.data(), 3, 32, 32, 4, {4, 4, true});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) BOOST_REQUIRE(at(out, c, y, x) == at(src, c, y, 31 - x));
  sd::apply_crop_flip(out.data(), back.data(), 3, 32, 32, 4, {4, 4, true});
  BOOST_TEST(back == src, boost::test_tools::per_element());

  // Crop then flip, as torchvision: out(y, x) = padded(y + top, 31 - x + left).
  sd::apply_crop_flip(src.data(), out.data(), 3, 32, 32, 4, {2, 7, true});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const int py = y + 2 - 4, px = 31 - x + 7 - 4;
        const bool inside = py >= 0 && py < 32 && px >= 0 && px < 32;
        BOOST_REQUIRE(at(out, c, y, x) == (inside ? at(src, c, py, px) : 0.0f));
      }
  BOOST_TEST(at(out, 0, 0, 0) == 0.0f);  // padded top rows
  BOOST_TEST(at(out, 0, 5, 0) == 0.0f);  // x = 0 reads padded column 34 -> outside
  BOOST_TEST(at(out, 0, 5, 3) == at(src, 0, 3, 31));
}

BOOST_AUTO_TEST_CASE(draws_cover_offsets_and_flip_evenly) {
  std::mt19937_64 rng(77);
  std::array<int, 9> tops{}, lefts{};
  int flips = 0;
  const int n = 90000;
  for (int i = 0; i < n; ++i) {
    const sd::crop_flip a = sd::draw_crop_flip(rng);
    BOOST_REQUIRE(a.top >= 0);
    BOOST_REQUIRE(a.top <= 8);
    BOOST_REQUIRE(a.left >= 0);
    BOOST_REQUIRE(a.left <= 8);
    ++tops[static_cast<std::size_t>(a.top)];
    ++lefts[static_cast<std::size_t>(a.left)];
    flips += a.flip ? 1 : 0;
  }
  // Each offset value has p = 1/9 (sigma ~ 94 in 90000); flip p = 1/2 (sigma 150).
  for (int k = 0; k < 9; ++k) {
    BOOST_TEST(std::abs(tops[static_cast<std::size_t>(k)] - n / 9) < 600, "top " << k);
    BOOST_TEST(std::abs(lefts[static_cast<std::size_t>(k)] - n / 9) < 600, "left " << k);
  }
  BOOST_TEST(std::abs(flips - n / 2) < 900);
  // The documented decomposition of one draw k in [0, 162).
  std::mt19937_64 a(5), b(5);
  for (int i = 0; i < 100; ++i) {
    const std::uint64_t k = b() % 162;  // rejection happens with probability ~ 1e-17
    const sd::crop_flip c = sd::draw_crop_flip(a);
    BOOST_REQUIRE(c.top == static_cast<int>(k % 9));
    BOOST_REQUIRE(c.left == static_cast<int>(k / 9 % 9));
    BOOST_REQUIRE(c.flip == (k >= 81));
  }
}

BOOST_AUTO_TEST_CASE(batch_is_reproducible_and_seed_dependent) {
  const sd::image_dataset d = sd::synthetic_cifar10(6, 3);
  const std::vector<int> idx = {5, 0, 3, 3, 1};
  auto run = [&](std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<float> out(idx.size() * image);
    sd::augment_batch(d, idx, out.data(), rng);
    return out;
  };
  const auto a = run(42), b = run(42), c = run(43);
  BOOST_TEST(a == b, boost::test_tools::per_element());
  BOOST_TEST(a != c);
  // Equal to drawing and applying per sample, in order.
  std::mt19937_64 rng(42);
  std::vector<float> expected(idx.size() * image);
  for (std::size_t i = 0; i < idx.size(); ++i) {
    const sd::crop_flip cf = sd::draw_crop_flip(rng);
    sd::apply_crop_flip(d.images.data() + idx[i] * image, expected.data() + i * image, 3, 32, 32,
                        4, cf);
  }
  BOOST_TEST(a == expected, boost::test_tools::per_element());
  // The same sample twice in a batch gets its own draw (equal only by a 1/162 chance per seed).
  bool repeated_differs = false;
  for (std::uint64_t s = 0; s < 8 && !repeated_differs; ++s) {
    const auto o = run(s);
    repeated_differs =
        !std::equal(o.begin() + 2 * image, o.begin() + 3 * image, o.begin() + 3 * image);
  }
  BOOST_TEST(repeated_differs);
  const std::vector<int> bad = {6};
  std::mt19937_64 r(1);
  std::vector<float> out(image);
  BOOST_CHECK_THROW(sd::augment_batch(d, bad, out.data(), r), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(epoch_rng_is_pure_function_of_seed_and_epoch) {
  auto first = [](std::mt19937_64 r) { return std::array<std::uint64_t, 3>{r(), r(), r()}; };
  BOOST_TEST(first(sd::augmentation_rng(9, 2)) == first(sd::augmentation_rng(9, 2)));
  BOOST_TEST(first(sd::augmentation_rng(9, 2)) != first(sd::augmentation_rng(9, 3)));
  BOOST_TEST(first(sd::augmentation_rng(9, 2)) != first(sd::augmentation_rng(10, 2)));
  // Not the batcher's stream for the same seed and epoch.
  const std::uint64_t batcher_seed = 9ull ^ (2ull * 0x9E3779B97F4A7C15ull);
  BOOST_TEST(first(sd::augmentation_rng(9, 2)) != first(std::mt19937_64(batcher_seed)));
  BOOST_CHECK_THROW(sd::augmentation_rng(9, -1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(padding_becomes_minus_mean_over_std_after_normalising) {
  sd::image_dataset d = sd::synthetic_cifar10(1, 8);
  const std::vector<int> idx = {0};
  std::vector<float> out(image);
  std::mt19937_64 rng(0);
  sd::crop_flip cf;
  do {  // find a draw with padding in the top-left corner
    std::mt19937_64 probe = rng;
    cf = sd::draw_crop_flip(probe);
    if (cf.top < 4 && cf.left < 4 && !cf.flip) break;
    rng.discard(1);
  } while (true);
  sd::augment_batch(d, idx, out.data(), rng);
  sd::normalize_cifar10(out.data(), 1);
  for (int c = 0; c < 3; ++c) {
    BOOST_TEST(at(out, c, 0, 0) == (0.0f - sd::cifar10_mean[static_cast<std::size_t>(c)]) /
                                       sd::cifar10_std[static_cast<std::size_t>(c)]);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(synthetic)

BOOST_AUTO_TEST_CASE(shapes_range_and_determinism) {
  const sd::image_dataset a = sd::synthetic_cifar10(500, 1);
  const sd::image_dataset b = sd::synthetic_cifar10(500, 1);
  const sd::image_dataset c = sd::synthetic_cifar10(500, 2);
  BOOST_TEST(a.count == 500);
  BOOST_TEST(a.channels == 3);
  BOOST_TEST(a.rows == 32);
  BOOST_TEST(a.cols == 32);
  BOOST_TEST(a.num_classes == 10);
  BOOST_TEST(a.images.size() == 500u * 3072u);
  BOOST_TEST(a.labels.size() == 500u);
  BOOST_TEST((a.images == b.images));
  BOOST_TEST((a.labels == b.labels));
  BOOST_TEST((a.images != c.images));
  BOOST_TEST(a.labels != c.labels);
  std::set<int> classes(a.labels.begin(), a.labels.end());
  BOOST_TEST(classes.size() == 10u);
  BOOST_TEST(*classes.begin() == 0);
  BOOST_TEST(*classes.rbegin() == 9);
  std::size_t outside = 0, not_bytes = 0, zeros = 0, ones = 0;
  for (float v : a.images) {
    outside += (v < 0.0f || v > 1.0f) ? 1 : 0;
    not_bytes += std::round(v * 255.0f) / 255.0f != v ? 1 : 0;  // bytes / 255, like the real data
    zeros += v == 0.0f ? 1 : 0;
    ones += v == 1.0f ? 1 : 0;
  }
  BOOST_TEST(outside == 0u);
  BOOST_TEST(not_bytes == 0u);
  BOOST_TEST(zeros > 0u);  // the clamp is reached at both ends (colours 30 and 230, noise +-64)
  BOOST_TEST(ones > 0u);
  // A prefix of a longer run is the shorter run.
  const sd::image_dataset shorter = sd::synthetic_cifar10(7, 1);
  BOOST_TEST(std::equal(shorter.images.begin(), shorter.images.end(), a.images.begin()));
  BOOST_TEST(sd::synthetic_cifar10(0, 1).count == 0);
  BOOST_CHECK_THROW(sd::synthetic_cifar10(-1, 1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(documented_construction) {
  const sd::image_dataset d = sd::synthetic_cifar10(2, 99);
  std::mt19937_64 rng(99);
  for (std::size_t i = 0; i < 2; ++i) {
    const std::uint64_t label = rng() % 10;  // rejection happens with probability ~ 1e-18
    BOOST_TEST(d.labels[i] == label);
    std::uint64_t w = 0;
    for (int k = 0; k < image; ++k) {
      if (k % 8 == 0) w = rng();
      const int noise = static_cast<int>((w >> (8 * (k % 8))) & 0xFF) / 2 - 64;
      const int colour = sd::synthetic_cifar10_colours[label][static_cast<std::size_t>(k / plane)];
      const int v = std::clamp(colour + noise, 0, 255);
      BOOST_REQUIRE(d.images[i * image + static_cast<std::size_t>(k)] ==
                    static_cast<float>(v) / 255.0f);
    }
  }
}

BOOST_AUTO_TEST_CASE(labels_follow_mean_colour) {
  const sd::image_dataset d = sd::synthetic_cifar10(300, 4);
  int correct = 0;
  for (int i = 0; i < d.count; ++i) {
    std::array<double, 3> mean{};
    for (int c = 0; c < 3; ++c) {
      const auto* p = d.images.data() + static_cast<std::size_t>(i * image + c * plane);
      mean[static_cast<std::size_t>(c)] = std::accumulate(p, p + plane, 0.0) / plane * 255.0;
    }
    int best = -1;
    double best_dist = 1e30;
    for (int k = 0; k < 10; ++k) {
      double dist = 0;
      for (std::size_t c = 0; c < 3; ++c) {
        const double e = mean[c] - sd::synthetic_cifar10_colours[static_cast<std::size_t>(k)][c];
        dist += e * e;
      }
      if (dist < best_dist) {
        best_dist = dist;
        best = k;
      }
    }
    correct += best == d.labels[static_cast<std::size_t>(i)] ? 1 : 0;
  }
  BOOST_TEST(correct == d.count);
}

BOOST_AUTO_TEST_SUITE_END()

// torchtoolbox's Cutout() box on 32x32 images, moments of 10^6 draws of its get_params
// (tests/golden/cutout_moments.py, Python's random): width mean 12.1914 (sd 5.1659), height 16.0055
// (sd 6.3132), area 200.8532 (sd 108.1640), sides 2 … 31. Tolerances: about 5 standard errors here.
BOOST_AUTO_TEST_CASE(cutout_matches_torchtoolbox) {
  std::mt19937_64 rng(2022);
  const int n = 200000;
  int applied = 0;
  double width = 0, height = 0, area = 0, value = 0;
  int smallest = 32, largest = 0;
  for (int i = 0; i < n; ++i) {
    const sd::cutout_box b = sd::draw_cutout(rng, 32, 32);
    if (!b.apply) continue;
    ++applied;
    BOOST_REQUIRE(b.left >= 0);
    BOOST_REQUIRE(b.top >= 0);
    BOOST_REQUIRE(b.left + b.width <= 32);
    BOOST_REQUIRE(b.top + b.height <= 32);
    width += b.width;
    height += b.height;
    area += b.width * b.height;
    value += b.value;
    smallest = std::min({smallest, b.width, b.height});
    largest = std::max({largest, b.width, b.height});
    BOOST_REQUIRE(b.value * 255.f == std::round(b.value * 255.f));  // c / 255 for an integer c
  }
  BOOST_TEST(std::abs(applied - n / 2) < 1200);  // p = 0.5: sd 224
  BOOST_TEST(std::abs(width / applied - 12.1914) < 0.09);
  BOOST_TEST(std::abs(height / applied - 16.0055) < 0.1);
  BOOST_TEST(std::abs(area / applied - 200.8532) < 1.8);
  BOOST_TEST(std::abs(value / applied - 0.5) < 0.005);  // c uniform on 0 … 255
  BOOST_TEST(smallest == 2);
  BOOST_TEST(largest == 31);
}

BOOST_AUTO_TEST_CASE(cutout_fills_the_box_red_as_pil_pastes_an_integer) {
  std::vector<float> img(3 * 32 * 32, 0.25f);
  const sd::cutout_box box{true, 3, 5, 4, 6, 200.f / 255.f};
  sd::apply_cutout(img.data(), 3, 32, 32, box);
  int filled = 0;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const bool inside = y >= 3 && y < 7 && x >= 5 && x < 11;
        const float expected = !inside ? 0.25f : (c == 0 ? 200.f / 255.f : 0.f);
        BOOST_REQUIRE(img[static_cast<std::size_t>((c * 32 + y) * 32 + x)] == expected);
        filled += inside;
      }
  BOOST_TEST(filled == 3 * 24);
  sd::apply_cutout(img.data(), 3, 32, 32, sd::cutout_box{});  // not drawn: nothing changes
  BOOST_TEST(img[0] == 0.25f);
}
