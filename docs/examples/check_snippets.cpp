// Checks that every `<!-- snippet: FILE#NAME -->` code block in the given Markdown files is, line for
// line (indentation removed), the region between the two `// [NAME]` lines of docs/examples/FILE.
// Run by CTest (docs_snippets) so the documented code is the compiled code.
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> region(const std::string& file, const std::string& name) {
  const auto src = lines_of(file);
  std::vector<std::size_t> marks;
  for (std::size_t i = 0; i < src.size(); ++i)
    if (trim(src[i]) == "// [" + name + "]") marks.push_back(i);
  if (marks.size() != 2) throw std::runtime_error(file + ": region [" + name + "] needs exactly two markers");
  std::vector<std::string> out;
  for (std::size_t i = marks[0] + 1; i < marks[1]; ++i) out.push_back(trim(src[i]));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: check_snippets EXAMPLES_DIR FILE.md...\n";
    return 2;
  }
  const std::string examples = argv[1];
  const std::regex marker(R"(<!-- snippet: ([A-Za-z0-9_.]+)#([A-Za-z0-9_-]+) -->)");
  int checked = 0, failures = 0;
  try {
    for (int a = 2; a < argc; ++a) {
      const auto md = lines_of(argv[a]);
      for (std::size_t i = 0; i < md.size(); ++i) {
        std::smatch m;
        if (!std::regex_search(md[i], m, marker)) continue;
        if (i + 1 >= md.size() || md[i + 1].rfind("```", 0) != 0) {
          std::cerr << argv[a] << ":" << i + 1 << ": snippet marker not followed by a code block\n";
          ++failures;
          continue;
        }
        std::vector<std::string> block;
        std::size_t j = i + 2;
        for (; j < md.size() && md[j].rfind("```", 0) != 0; ++j) block.push_back(trim(md[j]));
        const auto expected = region(examples + "/" + m[1].str(), m[2].str());
        ++checked;
        if (block != expected) {
          ++failures;
          std::cerr << argv[a] << ":" << i + 1 << ": code block differs from " << m[1] << " [" << m[2] << "]\n";
        }
        i = j;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  std::cout << checked << " snippets checked, " << failures << " differ\n";
  return (failures == 0 && checked > 0) ? 0 : 1;
}
