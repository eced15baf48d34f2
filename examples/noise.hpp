// Deterministic noise: the one source of "random" bytes for chapter programs, their tests, the
// harness's large images and the benchmark. Bytes gzip cannot shrink, so a layer's blob is as
// large as its file, and bytes that are the same on every run, so digests never change.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace workbook {

/// `size` bytes of noise for `seed`: std::mt19937_64 seeded with `seed`, each 64-bit number
/// written least significant byte first. The standard specifies mt19937_64 exactly (its
/// 10000th number is required to be 9981545732273789042), and the byte order is fixed here,
/// so the bytes, and every digest made of them, are the same on every platform and compiler.
/// For small sizes: the whole result is in memory.
std::string noise(std::uint64_t size, std::uint64_t seed);

/// The same bytes as noise(size, seed), written to `file` (created or truncated) 1 MiB at a
/// time, so a 1 GiB layer never sits in memory. Throws std::runtime_error if the file cannot
/// be written.
void write_noise(const std::filesystem::path& file, std::uint64_t size, std::uint64_t seed);

}  // namespace workbook
