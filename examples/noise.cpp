#include "noise.hpp"

#include <algorithm>
#include <fstream>
#include <random>
#include <stdexcept>
#include <vector>

namespace workbook {
namespace {

// The next `count` bytes of the stream. `count` is a multiple of 8 except at the very end,
// so consecutive calls continue the stream exactly where the last one stopped.
void fill(std::mt19937_64& numbers, char* out, std::size_t count) {
    for (std::size_t i = 0; i < count; i += 8) {
        std::uint64_t value = numbers();
        for (std::size_t k = 0; k < 8 && i + k < count; ++k, value >>= 8) out[i + k] = static_cast<char>(value & 0xff);
    }
}

}  // namespace

std::string noise(std::uint64_t size, std::uint64_t seed) {
    std::mt19937_64 numbers(seed);
    std::string bytes(size, '\0');
    fill(numbers, bytes.data(), bytes.size());
    return bytes;
}

void write_noise(const std::filesystem::path& file, std::uint64_t size, std::uint64_t seed) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot create " + file.string());
    std::mt19937_64 numbers(seed);
    std::vector<char> block(1 << 20);  // a multiple of 8: see fill
    for (std::uint64_t written = 0; written < size;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), size - written));
        fill(numbers, block.data(), n);
        out.write(block.data(), static_cast<std::streamsize>(n));
        written += n;
    }
    out.close();
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace workbook
