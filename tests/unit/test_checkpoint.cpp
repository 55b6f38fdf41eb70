// Tests of io/checkpoint.hpp (round trip, every corruption the loader must catch, atomic save) and
// of the JSON-lines writer in io/metrics.hpp (quoting, escaping, NaN/inf -> null, appending).
#define BOOST_TEST_MODULE checkpoint
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>


#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "spikefuse/io/checkpoint.hpp"
#include "spikefuse/io/metrics.hpp"
#include "spikefuse/io/run_directory.hpp"
#include "spikefuse/train/fit.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
namespace io = spikefuse::io;

namespace {

using bytes = std::vector<char>;

struct temp_dir : spikefuse::test::temp_dir {
  temp_dir() : spikefuse::test::temp_dir("checkpoint") {}
};

bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_TEST_REQUIRE(static_cast<bool>(in), "cannot read " << path);
  return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(b.data(), static_cast<std::streamsize>(b.size()));
  BOOST_TEST_REQUIRE(static_cast<bool>(out), "cannot write " << path);
}

io::checkpoint_state sample_state() {
  io::checkpoint_state s;
  s.network = "Network<Input<784>, Linear<800>, OTTTLIF<tau=2>, Linear<10>>";
  s.method = "ottt_a";
  s.optimizer = "adam";
  s.run_config = "seed=42 batch_size=128 T=4 encoding=direct k=0";
  s.epochs_done = 7;
  s.optimizer_steps = 3283;
  s.seed = 0xFEDCBA9876543210ull;  // above INT64_MAX: the full 64 bits must survive
  for (int i = 0; i < 257; ++i) s.parameters.push_back(static_cast<float>(i) * 0.37f - 40.f);
  s.parameters.push_back(-0.f);
  s.parameters.push_back(std::numeric_limits<float>::denorm_min());
  s.parameters.push_back(std::numeric_limits<float>::max());
  for (std::size_t i = 0; i < 2 * s.parameters.size(); ++i) s.optimizer_state.push_back(1e-8f * static_cast<float>(i + 1));
  for (int i = 0; i < 12; ++i) s.statistics.push_back(0.5f + static_cast<float>(i));
  return s;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

void check_equal(const io::checkpoint_state& a, const io::checkpoint_state& b) {
  BOOST_TEST(a.network == b.network);
  BOOST_TEST(a.method == b.method);
  BOOST_TEST(a.optimizer == b.optimizer);
  BOOST_TEST(a.run_config == b.run_config);
  BOOST_TEST(a.epochs_done == b.epochs_done);
  BOOST_TEST(a.optimizer_steps == b.optimizer_steps);
  BOOST_TEST(a.seed == b.seed);
  BOOST_TEST(a.parameters.size() == b.parameters.size());
  BOOST_TEST(a.optimizer_state.size() == b.optimizer_state.size());
  BOOST_TEST(same_bits(a.parameters, b.parameters), "parameters differ bitwise");
  BOOST_TEST(same_bits(a.optimizer_state, b.optimizer_state), "optimizer state differs bitwise");
  BOOST_TEST(same_bits(a.statistics, b.statistics), "running statistics differ bitwise");
}

/// Byte offset of the first parameter float in a file written from `s`.
std::size_t parameters_offset(const io::checkpoint_state& s) {
  return 8 + 4 + (4 + s.network.size()) + (4 + s.method.size()) + (4 + s.optimizer.size()) +
         (4 + s.run_config.size()) + 4 + 8 + 8 + 8;
}

/// Runs load_checkpoint(path), which must throw checkpoint_error whose message contains every one of `parts`.
void expect_load_error(const std::string& path, std::initializer_list<std::string> parts) {
  try {
    (void)io::load_checkpoint(path);
    BOOST_ERROR("load_checkpoint(" << path << ") did not throw");
  } catch (const io::checkpoint_error& e) {
    const std::string what = e.what();
    for (const auto& p : parts) BOOST_TEST(what.find(p) != std::string::npos, "'" << what << "' should contain '" << p << "'");
  }
}

}  // namespace

// ---- round trip -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(round_trip_keeps_every_field) {
  temp_dir dir;
  const auto path = dir.file("checkpoint.bin");
  const auto s = sample_state();
  io::save_checkpoint(path, s);
  BOOST_TEST(!fs::exists(path + ".tmp"), "the temporary file must be renamed away");
  check_equal(io::load_checkpoint(path), s);
}

BOOST_AUTO_TEST_CASE(round_trip_of_empty_state) {
  temp_dir dir;
  const auto path = dir.file("empty.bin");
  io::checkpoint_state s;  // empty strings and arrays, zero counters
  io::save_checkpoint(path, s);
  check_equal(io::load_checkpoint(path), s);
}

BOOST_AUTO_TEST_CASE(save_replaces_previous_checkpoint) {
  temp_dir dir;
  const auto path = dir.file("checkpoint.bin");
  auto s = sample_state();
  io::save_checkpoint(path, s);
  s.epochs_done = 8;
  s.parameters[0] = 123.5f;
  s.optimizer_state.pop_back();
  io::save_checkpoint(path, s);
  check_equal(io::load_checkpoint(path), s);
}

BOOST_AUTO_TEST_CASE(same_state_gives_same_bytes) {
  temp_dir dir;
  const auto s = sample_state();
  io::save_checkpoint(dir.file("a.bin"), s);
  io::save_checkpoint(dir.file("b.bin"), s);
  BOOST_TEST((read_bytes(dir.file("a.bin")) == read_bytes(dir.file("b.bin"))));
}

// ---- corruption -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(flipped_payload_byte_is_a_checksum_error) {
  temp_dir dir;
  const auto path = dir.file("checkpoint.bin");
  const auto s = sample_state();
  io::save_checkpoint(path, s);
  const bytes good = read_bytes(path);
  const std::size_t params = parameters_offset(s);
  // A byte inside a parameter, inside the optimizer state, inside a text field and in the counters:
  // none changes a length, so only the checksum can catch them.
  const std::size_t positions[] = {params + 5 * sizeof(float) + 2, good.size() - 8 - 3, 8 + 4 + 4 + 3,
                                   params - 8 - 8 - 1 /* optimizer_steps */};
  for (const std::size_t pos : positions) {
    BOOST_TEST_CONTEXT("byte " << pos << " of " << good.size()) {
      bytes bad = good;
      bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
      write_bytes(path, bad);
      expect_load_error(path, {"checksum", path});
    }
  }
}

BOOST_AUTO_TEST_CASE(flipped_stored_checksum_is_a_checksum_error) {
  temp_dir dir;
  const auto path = dir.file("checkpoint.bin");
  io::save_checkpoint(path, sample_state());
  bytes bad = read_bytes(path);
  bad.back() = static_cast<char>(bad.back() ^ 0x01);
  write_bytes(path, bad);
  expect_load_error(path, {"checksum mismatch"});
}

BOOST_AUTO_TEST_CASE(every_truncation_is_reported) {
  temp_dir dir;
  const auto path = dir.file("checkpoint.bin");
  io::save_checkpoint(path, sample_state());
  const bytes good = read_bytes(path);
  // Every proper prefix, from the empty file to one byte short of the checksum's end.
  for (std::size_t n = 0; n < good.size(); ++n) {
    BOOST_TEST_CONTEXT("truncated to " << n << " of " << good.size() << " bytes") {
      write_bytes(path, bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
      expect_load_error(path, {"truncated", path});
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_magic) {
  temp_dir dir;
  const auto path = dir.file("checkpoint.bin");
  io::save_checkpoint(path, sample_state());
  bytes bad = read_bytes(path);
  bad[0] = 'X';
  write_bytes(path, bad);
  expect_load_error(path, {"not a spikefuse checkpoint", path});

  // Some other file altogether.
  write_bytes(path, bytes{'{', '"', 'e', 'v', 'e', 'n', 't', '"', ':', ' ', '1', '}', '\n'});
  expect_load_error(path, {"not a spikefuse checkpoint"});
}

BOOST_AUTO_TEST_CASE(wrong_version) {
  temp_dir dir;
  const auto path = dir.file("checkpoint.bin");
  io::save_checkpoint(path, sample_state());
  bytes bad = read_bytes(path);
  const std::uint32_t v = 1;
  std::memcpy(bad.data() + 8, &v, sizeof v);
  write_bytes(path, bad);
  expect_load_error(path, {"format version 1", "reads versions 2 to 3"});
}

BOOST_AUTO_TEST_CASE(version_2_files_without_statistics_still_load) {
  // A version-2 file is a version-3 file without the statistics array (and its length).
  temp_dir dir;
  const auto path = dir.file("checkpoint.bin");
  auto s = sample_state();
  s.statistics.clear();
  io::save_checkpoint(path, s);
  bytes b = read_bytes(path);
  const std::size_t statistics_at = b.size() - 8 - sizeof(std::uint64_t);  // before the checksum: an empty array's length
  b.erase(b.begin() + static_cast<std::ptrdiff_t>(statistics_at), b.begin() + static_cast<std::ptrdiff_t>(statistics_at + 8));
  const std::uint32_t v = 2;
  std::memcpy(b.data() + 8, &v, sizeof v);
  io::detail::fnv1a sum;
  sum.feed(b.data(), b.size() - 8);
  std::memcpy(b.data() + b.size() - 8, &sum.h, 8);
  write_bytes(path, b);
  check_equal(io::load_checkpoint(path), s);
}

BOOST_AUTO_TEST_CASE(trailing_bytes) {
  temp_dir dir;
  const auto path = dir.file("checkpoint.bin");
  io::save_checkpoint(path, sample_state());
  bytes bad = read_bytes(path);
  bad.push_back('\0');
  write_bytes(path, bad);
  expect_load_error(path, {"trailing bytes"});
}

BOOST_AUTO_TEST_CASE(absurd_lengths_fail_before_allocating) {
  temp_dir dir;
  const auto path = dir.file("checkpoint.bin");
  const auto s = sample_state();
  io::save_checkpoint(path, s);
  const bytes good = read_bytes(path);

  bytes bad = good;  // network name length 0xFFFFFFFF
  std::memset(bad.data() + 12, 0xFF, 4);
  write_bytes(path, bad);
  expect_load_error(path, {"text field claims", "corrupt"});

  bad = good;  // parameter count 2^63
  const std::size_t count_at = parameters_offset(s) - 8;
  bad[count_at + 7] = static_cast<char>(0x80);
  write_bytes(path, bad);
  expect_load_error(path, {"array claims", "truncated"});
}

BOOST_AUTO_TEST_CASE(missing_file) {
  temp_dir dir;
  const auto path = dir.file("no_such_checkpoint.bin");
  expect_load_error(path, {"cannot open checkpoint", path, "No such file"});
}

BOOST_AUTO_TEST_CASE(directory_instead_of_file) {
  temp_dir dir;
  // fopen("rb") of a directory succeeds on Linux; the first read fails.
  try {
    (void)io::load_checkpoint(dir.path.string());
    BOOST_ERROR("loading a directory did not throw");
  } catch (const io::checkpoint_error& e) {
    BOOST_TEST_MESSAGE("directory: " << e.what());
    BOOST_TEST(std::string(e.what()).find(dir.path.string()) != std::string::npos);
  }
}

// ---- atomic save ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(failed_save_leaves_old_checkpoint_intact) {
  temp_dir dir;
  const auto path = dir.file("checkpoint.bin");
  const auto old_state = sample_state();
  io::save_checkpoint(path, old_state);
  const bytes old_bytes = read_bytes(path);

  fs::create_directory(path + ".tmp");  // the temporary file cannot be created
  auto new_state = old_state;
  new_state.epochs_done = 99;
  new_state.parameters.assign(3, 1.f);
  try {
    io::save_checkpoint(path, new_state);
    BOOST_ERROR("save_checkpoint did not throw although " << path << ".tmp is a directory");
  } catch (const io::checkpoint_error& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find(path + ".tmp") != std::string::npos, what);
  }
  BOOST_TEST((read_bytes(path) == old_bytes), "the old checkpoint's bytes changed");
  check_equal(io::load_checkpoint(path), old_state);
  BOOST_TEST(fs::is_directory(path + ".tmp"));
}

BOOST_AUTO_TEST_CASE(save_into_missing_directory_throws) {
  temp_dir dir;
  const auto path = dir.file("no/such/dir/checkpoint.bin");
  BOOST_CHECK_THROW(io::save_checkpoint(path, sample_state()), io::checkpoint_error);
  BOOST_TEST(!fs::exists(path));
}

BOOST_AUTO_TEST_CASE(failed_rename_throws_and_keeps_target) {
  temp_dir dir;
  // The target is a non-empty directory: writing the temp file works, the rename cannot.
  const auto path = dir.file("checkpoint.bin");
  fs::create_directory(path);
  write_bytes((fs::path(path) / "keep").string(), bytes{'x'});
  try {
    io::save_checkpoint(path, sample_state());
    BOOST_ERROR("save_checkpoint over a non-empty directory did not throw");
  } catch (const io::checkpoint_error& e) {
    BOOST_TEST(std::string(e.what()).find("cannot rename") != std::string::npos, e.what());
  }
  BOOST_TEST(fs::is_regular_file(fs::path(path) / "keep"));
}

// ---- metrics JSON -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(json_quotes_and_escapes) {
  using io::json_record;
  BOOST_TEST(json_record::quote("plain") == "\"plain\"");
  BOOST_TEST(json_record::quote("") == "\"\"");
  BOOST_TEST(json_record::quote("a\"b") == "\"a\\\"b\"");
  BOOST_TEST(json_record::quote("back\\slash") == "\"back\\\\slash\"");
  BOOST_TEST(json_record::quote("line\nbreak\ttab") == "\"line\\nbreak\\ttab\"");
  BOOST_TEST(json_record::quote(std::string("\r\x01\x1f", 3)) == "\"\\u000d\\u0001\\u001f\"");
  BOOST_TEST(json_record::quote(std::string("nul\0x", 5)) == "\"nul\\u0000x\"");
  BOOST_TEST(json_record::quote("caf\xc3\xa9 \x7f") == "\"caf\xc3\xa9 \x7f\"");  // UTF-8 and DEL pass through
}

BOOST_AUTO_TEST_CASE(json_record_fields) {
  const std::string s = io::json_record{}
                            .add("event", "epoch")
                            .add("epoch", 3)
                            .add("steps", 1LL << 40)
                            .add("neg", -7)
                            .add("loss", 0.25)
                            .add("path", std::string("C:\\runs\\\"x\""))
                            .add("we\"ird\nkey", "v")
                            .str();
  BOOST_TEST(s ==
             "{\"event\": \"epoch\", \"epoch\": 3, \"steps\": 1099511627776, \"neg\": -7, \"loss\": 0.25, "
             "\"path\": \"C:\\\\runs\\\\\\\"x\\\"\", \"we\\\"ird\\nkey\": \"v\"}");
  BOOST_TEST(io::json_record{}.str() == "{}");
}

BOOST_AUTO_TEST_CASE(json_non_finite_is_null) {
  const std::string s = io::json_record{}
                            .add("nan", std::nan(""))
                            .add("inf", std::numeric_limits<double>::infinity())
                            .add("ninf", -std::numeric_limits<double>::infinity())
                            .add("ok", 1.5)
                            .str();
  BOOST_TEST(s == "{\"nan\": null, \"inf\": null, \"ninf\": null, \"ok\": 1.5}");
  BOOST_TEST(s.find("nan\": n") != std::string::npos);
  BOOST_TEST(s.find("inf\": null") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_doubles_round_trip_floats) {
  // Nine significant digits: every float survives the text; tiny and huge values stay valid JSON numbers.
  const float values[] = {0.1f, 1.f / 3.f, 87.654321f, 1e-30f, 3.0e38f, -2.5e-7f};
  for (const float v : values) {
    const std::string s = io::json_record{}.add("x", static_cast<double>(v)).str();
    const std::string num = s.substr(6, s.size() - 7);  // {"x": <num>}
    BOOST_TEST_CONTEXT(s) {
      BOOST_TEST(num.find_first_not_of("0123456789+-.e") == std::string::npos);
      BOOST_TEST(std::stof(num) == v);
    }
  }
}

BOOST_AUTO_TEST_CASE(metrics_writer_appends_lines) {
  temp_dir dir;
  const auto path = dir.file("metrics.jsonl");
  {
    io::metrics_writer w(path);
    w.write(io::json_record{}.add("event", "start"));
    w.write(io::json_record{}.add("event", "epoch").add("loss", std::nan("")));
  }
  {
    io::metrics_writer w(path);  // a resumed run continues the same file
    w.write(io::json_record{}.add("event", "end"));
  }
  const bytes b = read_bytes(path);
  const std::string text(b.begin(), b.end());
  BOOST_TEST(text == "{\"event\": \"start\"}\n{\"event\": \"epoch\", \"loss\": null}\n{\"event\": \"end\"}\n");
}

BOOST_AUTO_TEST_CASE(metrics_writer_reports_unwritable_path) {
  temp_dir dir;
  const auto path = dir.file("missing_dir/metrics.jsonl");
  try {
    io::metrics_writer w(path);
    BOOST_ERROR("metrics_writer opened " << path);
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).find(path) != std::string::npos, e.what());
  }
}

// ---- a fresh run in a folder that holds an earlier run -------------------------------------------

BOOST_AUTO_TEST_CASE(earlier_runs_move_aside_whole_and_in_order) {
  temp_dir dir;
  const std::string out = dir.path.string();
  BOOST_TEST(io::set_aside_earlier_run(out, {"checkpoint.bin", "metrics.jsonl"}).empty(), "an empty folder holds no run");
  const std::string first_checkpoint = "first run's checkpoint", first_metrics = "{\"event\": \"start\"}\n";
  temp_dir::write(dir.path / "checkpoint.bin", first_checkpoint);
  temp_dir::write(dir.path / "metrics.jsonl", first_metrics);
  temp_dir::write(dir.path / "notes.txt", std::string("the user's own file"));
  const std::string aside = io::set_aside_earlier_run(out, {"checkpoint.bin", "metrics.jsonl"});
  BOOST_TEST(aside == (dir.path / "previous-1").string());
  BOOST_TEST(!fs::exists(dir.path / "checkpoint.bin"));
  BOOST_TEST(!fs::exists(dir.path / "metrics.jsonl"));
  BOOST_TEST(fs::exists(dir.path / "notes.txt"), "only the run's own files move");
  const bytes checkpoint = read_bytes(aside + "/checkpoint.bin"), metrics = read_bytes(aside + "/metrics.jsonl");
  BOOST_TEST(std::string(checkpoint.begin(), checkpoint.end()) == first_checkpoint);
  BOOST_TEST(std::string(metrics.begin(), metrics.end()) == first_metrics);

  // A second earlier run with its metrics only (it failed before its first checkpoint), and a
  // dangling symlink in place of the checkpoint: both move, to the next free number.
  temp_dir::write(dir.path / "metrics.jsonl", std::string("{}\n"));
  fs::create_symlink(dir.path / "gone.bin", dir.path / "checkpoint.bin");
  fs::create_directory(dir.path / "previous-2");  // taken by something else
  const std::string next = io::set_aside_earlier_run(out, {"checkpoint.bin", "metrics.jsonl"});
  BOOST_TEST(next == (dir.path / "previous-3").string());
  BOOST_TEST(fs::is_symlink(dir.path / "previous-3" / "checkpoint.bin"));
  BOOST_TEST(fs::exists(dir.path / "previous-3" / "metrics.jsonl"));
  BOOST_TEST(fs::is_empty(dir.path / "previous-2"));
  BOOST_TEST(fs::exists(dir.path / "previous-1" / "checkpoint.bin"), "an older run stays where it was");
}

// ---- which checkpoints a run may resume ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(resume_needs_the_same_run_config_or_an_older_checkpoints_part_of_it) {
  namespace sf = spikefuse;
  sf::fit_options opt;
  opt.batch_size = 8;
  sf::data::dataset train;
  train.count = 20;
  const std::string now = sf::detail::run_config(opt, train);
  BOOST_TEST(now == "seed=42 batch_size=8 T=4 encoding=direct k=0 train_images=20 augment=off");
  BOOST_TEST(sf::detail::run_config_allows_resume(now, now));
  // Written before the training set's size and augmentation were recorded: the rest decides.
  BOOST_TEST(sf::detail::run_config_allows_resume("seed=42 batch_size=8 T=4 encoding=direct k=0", now));
  BOOST_TEST(!sf::detail::run_config_allows_resume("seed=42 batch_size=16 T=4 encoding=direct k=0", now));
  BOOST_TEST(!sf::detail::run_config_allows_resume("seed=42 batch_size=8 T=4 encoding=direct k=0 train_images=16 augment=off", now));
  BOOST_TEST(!sf::detail::run_config_allows_resume("seed=42 batch_size=8 T=4 encoding=direct k=0 train_images=20 augment=on", now));
  BOOST_TEST(!sf::detail::run_config_allows_resume("seed=42 batch_size=8 T=4", now), "a truncated record is no older format");
  // A refusal names what differs, not the two records.
  BOOST_TEST(sf::detail::run_config_difference("seed=42 batch_size=16 T=4 encoding=direct k=0 train_images=20 augment=off", now) ==
             "batch_size 16 in the checkpoint, 8 now");
  BOOST_TEST(sf::detail::run_config_difference("seed=7 batch_size=8 T=6", now) ==
             "seed 7 in the checkpoint, 42 now, T 6 in the checkpoint, 4 now, encoding (none) in the checkpoint, direct now, "
             "k (none) in the checkpoint, 0 now");  // a checkpoint from before train_images / augment were recorded
}

// ---- fit_model's check of the images' shape (an image input) ----------------------------------------

namespace {
using ImageNet = spikefuse::Network<spikefuse::Input<1, 4, 4>, spikefuse::Conv2d<2, 3, spikefuse::conv_opts{.padding = 1}>,
                                    spikefuse::SLTTLIF<>, spikefuse::Flatten, spikefuse::Linear<2>>;

spikefuse::data::dataset images(int rows, int cols) {
  spikefuse::data::dataset d;
  d.count = 4;
  d.rows = rows;
  d.cols = cols;
  d.num_classes = 2;
  d.images.assign(static_cast<std::size_t>(d.count * rows * cols), 0.5f);
  d.labels = {0, 1, 0, 1};
  return d;
}

spikefuse::fit_options one_quiet_epoch(const std::string& out_dir) {
  spikefuse::fit_options opt;
  opt.epochs = 1;
  opt.batch_size = 2;
  opt.time_steps = 2;
  opt.method = spikefuse::training_method::sltt;
  opt.out_dir = out_dir;
  opt.quiet = true;
  return opt;
}
}  // namespace

BOOST_AUTO_TEST_CASE(image_inputs_check_the_images_shape_not_only_their_size) {
  temp_dir dir;
  // 4x4 images, and flat records of 16 features (no shape to check): both train.
  BOOST_CHECK_NO_THROW(spikefuse::fit<ImageNet>(one_quiet_epoch(dir.file("square")), images(4, 4), images(4, 4)));
  BOOST_CHECK_NO_THROW(spikefuse::fit<ImageNet>(one_quiet_epoch(dir.file("flat")), images(1, 16), images(1, 16)));
  // 2x8 images hold 16 pixels too, but they are no 4x4 image.
  try {
    spikefuse::fit<ImageNet>(one_quiet_epoch(dir.file("wide")), images(2, 8), images(4, 4));
    BOOST_ERROR("2x8 images trained a network whose Input is 1x4x4");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) == "spikefuse: the training images are 2x8, but the network's Input takes 1x4x4");
  }
  BOOST_TEST(!fs::exists(dir.path / "wide"), "a refused run writes nothing");
}

// ---- a resumed run ends where an uninterrupted one does ---------------------------------------------

namespace {
using ResumeNet = spikefuse::Network<spikefuse::Input<1, 4, 4>, spikefuse::Conv2d<2, 3, spikefuse::conv_opts{.padding = 1}>,
                                     spikefuse::BatchNorm2d<>, spikefuse::SLTTLIF<>, spikefuse::Dropout<0.25f>, spikefuse::Flatten,
                                     spikefuse::Linear<2>>;
using ResumeOtttNet = spikefuse::Network<spikefuse::Input<16>, spikefuse::Linear<8>, spikefuse::OTTTLIF<>, spikefuse::Linear<2>>;

spikefuse::data::dataset varied_images() {
  spikefuse::data::dataset d;
  d.count = 12;
  d.rows = 4;
  d.cols = 4;
  d.num_classes = 2;
  for (int i = 0; i < d.count * 16; ++i) d.images.push_back(static_cast<float>((i * 7) % 11) / 10.f);
  for (int i = 0; i < d.count; ++i) d.labels.push_back(static_cast<std::uint8_t>(i % 2));
  return d;
}

/// Trains `opt` for 2 epochs without a break, and again broken off at the first batch of epoch 2
/// (after epoch 1's checkpoint) and resumed; the two final checkpoints must be the same bytes: the
/// parameters, optimizer state, step count, BatchNorm statistics, and every random stream (batch
/// order, dropout masks, augmentation, Poisson spikes) continue as if nothing happened.
template <class Net>
void check_resume_repeats_the_uninterrupted_run(spikefuse::fit_options opt, const std::string& tag) {
  temp_dir dir;
  const auto data = varied_images();
  bool interrupt = false;
  int batches_seen = 0;
  opt.epochs = 2;
  opt.batch_size = 4;  // 3 batches per epoch
  opt.quiet = true;
  opt.train_augment = [](const spikefuse::data::dataset& t, std::span<const int> idx, std::mt19937_64& rng, float* x) {
    spikefuse::data::encode_direct(t, idx, x);
    x[0] += static_cast<float>(rng() % 4) * 0.25f;  // an augmentation that draws from the epoch's stream
  };
  opt.after_batch = [&](int epoch, int batch, const spikefuse::batch_result& r) {
    ++batches_seen;
    BOOST_TEST(r.samples == 4);
    if (interrupt && epoch == 1 && batch == 0) throw std::runtime_error("interrupted");
  };
  opt.out_dir = dir.file(tag + "_uninterrupted");
  spikefuse::fit<Net>(opt, data, data);
  BOOST_TEST(batches_seen == 6);

  opt.out_dir = dir.file(tag + "_resumed");
  interrupt = true;
  BOOST_CHECK_THROW(spikefuse::fit<Net>(opt, data, data), std::runtime_error);
  interrupt = false;
  opt.resume = true;
  const auto resumed = spikefuse::fit<Net>(opt, data, data);
  BOOST_TEST(resumed.epochs_run == 1);
  BOOST_TEST(resumed.total_epochs == 2);
  BOOST_TEST((read_bytes(dir.file(tag + "_uninterrupted/checkpoint.bin")) == read_bytes(dir.file(tag + "_resumed/checkpoint.bin"))),
             tag << ": the resumed run's checkpoint differs from the uninterrupted run's");
}
/// One quiet epoch in batches of 4, into `out_dir`.
spikefuse::fit_options one_quiet_epoch_of_fours(const std::string& out_dir) {
  spikefuse::fit_options opt;
  opt.epochs = 1;
  opt.batch_size = 4;
  opt.quiet = true;
  opt.out_dir = out_dir;
  return opt;
}
}  // namespace

BOOST_AUTO_TEST_CASE(resume_refuses_another_network) {
  namespace sf = spikefuse;
  using Wider = sf::Network<sf::Input<16>, sf::Linear<9>, sf::OTTTLIF<>, sf::Linear<2>>;
  temp_dir dir;
  const auto data = varied_images();
  sf::fit_options opt = one_quiet_epoch_of_fours(dir.file("run"));
  sf::fit<ResumeOtttNet>(opt, data, data);
  opt.resume = true;
  opt.epochs = 2;
  try {
    sf::fit<Wider>(opt, data, data);
    BOOST_ERROR("a checkpoint of another network was resumed");
  } catch (const sf::io::checkpoint_error& e) {
    BOOST_TEST(std::string(e.what()).find("is for network 'Input<16x1x1> -> Linear<8> -> ") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(resume_repeats_the_uninterrupted_run) {
  namespace sf = spikefuse;
  sf::fit_options sltt;
  sltt.method = sf::training_method::sltt;
  sltt.optimizer.kind = sf::optimizer_kind::adam;
  sltt.warmup_epochs = 0.5f;  // the schedule resumes mid-way: it depends on the restored step count
  check_resume_repeats_the_uninterrupted_run<ResumeNet>(sltt, "sltt_adam");

  sf::fit_options sltt_k = sltt;
  sltt_k.method = sf::training_method::sltt_k;
  sltt_k.k = 1;
  sltt_k.time_steps = 3;
  sltt_k.optimizer.kind = sf::optimizer_kind::sgd;
  check_resume_repeats_the_uninterrupted_run<ResumeNet>(sltt_k, "sltt_k_sgd");

  sf::fit_options ottt_poisson;
  ottt_poisson.method = sf::training_method::ottt_o;
  ottt_poisson.encoding = sf::data::encoding::poisson;
  check_resume_repeats_the_uninterrupted_run<ResumeOtttNet>(ottt_poisson, "ottt_o_poisson");
}

// ---- firing rates in metrics.jsonl -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(epoch_records_hold_each_neuron_layers_firing_rate) {
  namespace sf = spikefuse;
  // The second neuron's threshold is far above anything it can reach: it never fires.
  using Silent = sf::Network<sf::Input<16>, sf::Linear<8>, sf::OTTTLIF<>, sf::Linear<4>,
                             sf::OTTTLIF<sf::ottt_params{.v_threshold = 1e6}>, sf::Linear<2>>;
  temp_dir dir;
  const auto data = varied_images();
  const sf::fit_options opt = one_quiet_epoch_of_fours(dir.file("run"));
  sf::fit<Silent>(opt, data, data);
  const auto lines = read_bytes(dir.file("run/metrics.jsonl"));
  const std::string text(lines.begin(), lines.end());
  const auto at = text.find("\"spike_rates\": [");
  BOOST_TEST_REQUIRE(at != std::string::npos, text);
  const auto end = text.find(']', at);
  std::istringstream in(text.substr(at + 16, end - at - 16));
  double first = -1, second = -1;
  char comma = 0;
  in >> first >> comma >> second;
  BOOST_TEST(comma == ',');
  BOOST_TEST(first > 0.0);  // the first layer fires on these images
  BOOST_TEST(first <= 1.0);
  BOOST_TEST(second == 0.0);

  // The probe's rate is the spikes of training-phase steps (no backward) on the first 8 test images
  // per neuron and step: counted here by hand on a model with the saved weights.
  const auto ck = io::load_checkpoint(dir.file("run/checkpoint.bin"));
  sf::cpu::model<Silent> m(8, 0, 1, sf::plan_options{.keep_outputs = true});
  m.load_parameters(ck.parameters);
  m.reset_state(8, sf::phase::train_no_grad);
  std::copy_n(data.images.begin(), 8 * 16, m.input());
  double spikes = 0;
  for (int t = 0; t < opt.time_steps; ++t) {
    m.forward(sf::phase::train_no_grad);
    for (int i = 0; i < 8 * 8; ++i) spikes += m.output_of(2)[i];
  }
  BOOST_TEST(first == spikes / (8.0 * 8 * opt.time_steps), boost::test_tools::tolerance(1e-6));
  BOOST_TEST(sf::firing_rate_probe<Silent>::neuron_nodes() == (std::vector<std::size_t>{2, 4}));
  BOOST_TEST(sf::firing_rate_probe<Silent>::neuron_names().at(1).find("theta=1e+06") != std::string::npos,
             sf::firing_rate_probe<Silent>::neuron_names().at(1));
}
