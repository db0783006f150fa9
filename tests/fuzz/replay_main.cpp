// Runs a fuzz target without libFuzzer: every file of the seed corpus, then a fixed number of
// deterministic mutations of each (bit flips, truncations, splices, byte insertions). A crash,
// a sanitizer report or an uncaught exception fails the ctest run; the same inputs every time.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr int kMutationsPerSeed = 3000;

// With WADDLE_FUZZ_SAVE=FILE set, each input is written to FILE before it runs, so the one that
// crashed or hung can be replayed alone.
void run(const std::string& input) {
  if (const char* save = std::getenv("WADDLE_FUZZ_SAVE")) {
    std::ofstream(save, std::ios::binary | std::ios::trunc) << input;
  }
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string mutate(const std::string& seed, const std::vector<std::string>& seeds,
                   std::mt19937& rng) {
  std::string s = seed;
  auto pick = [&](std::size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  static const char* kTokens[] = {"\"",  "\\",   "{",    "}",       "[",    "]",        ":",
                                  ",",   "\n",   "\r\n", "\\u0000", "\xff", "\xc3\x28", "%",
                                  "%zz", "null", "-1",   "1e999",   "\t",   "/"};
  int edits = 1 + static_cast<int>(pick(4));
  for (int e = 0; e < edits; ++e) {
    switch (pick(6)) {
      case 0:
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1 << pick(8));
        break;
      case 1: s.resize(pick(s.size() + 1)); break;
      case 2: s.insert(pick(s.size() + 1), kTokens[pick(std::size(kTokens))]); break;
      case 3: {
        const auto& other = seeds[pick(seeds.size())];
        auto from = pick(other.size() + 1);
        s.insert(pick(s.size() + 1), other.substr(from, pick(other.size() - from + 1)));
        break;
      }
      case 4:
        if (!s.empty()) s.erase(pick(s.size()), 1 + pick(8));
        break;
      case 5:
        s.insert(pick(s.size() + 1),
                 std::string(1 + pick(64), s.empty() ? 'a' : s[pick(s.size())]));
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  std::vector<std::string> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    std::ifstream in(entry.path(), std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "no seeds in %s\n", argv[1]);
    return 2;
  }
  std::mt19937 rng(20261123);
  std::size_t runs = 0;
  run("");
  for (const auto& seed : seeds) {
    run(seed);
    ++runs;
    for (int i = 0; i < kMutationsPerSeed; ++i, ++runs) run(mutate(seed, seeds, rng));
  }
  std::printf("%zu inputs from %zu seeds: no crash\n", runs, seeds.size());
  return 0;
}
