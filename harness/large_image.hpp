// Images big enough that a transfer takes a while: layers of deterministic bytes that gzip
// cannot shrink, so the blob on the wire is as large as the file in the layer.
#pragma once

#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/layer_builder.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace harness {

/// Writes `size` bytes of a xorshift64* stream started from `seed`: the same seed always
/// gives the same bytes, and they look random to gzip.
inline void write_incompressible_file(const std::filesystem::path& file, std::uint64_t size,
                                      std::uint64_t seed) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot create " + file.string());
    std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
    std::vector<char> block(1 << 20);
    for (std::uint64_t written = 0; written < size;) {
        for (std::size_t i = 0; i + 8 <= block.size(); i += 8) {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            const std::uint64_t word = state * 0x2545F4914F6CDD1Dull;
            for (int b = 0; b < 8; ++b) block[i + b] = static_cast<char>(word >> (8 * b));
        }
        const std::uint64_t n = std::min<std::uint64_t>(block.size(), size - written);
        out.write(block.data(), static_cast<std::streamsize>(n));
        written += n;
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
}

/// An OCI image of one layer per entry of `layer_sizes`, each layer one incompressible file
/// `/data-<n>.bin` of that many bytes. Files are built under `directory`; the same sizes and
/// seed always give the same digests.
inline wbclient::BuiltImage build_large_image(const std::filesystem::path& directory,
                                               const std::vector<std::uint64_t>& layer_sizes,
                                               std::uint64_t seed) {
    std::filesystem::create_directories(directory);
    std::vector<wbclient::ImageLayer> layers;
    for (std::size_t n = 0; n < layer_sizes.size(); ++n) {
        const auto content = directory / ("data-" + std::to_string(n) + ".bin");
        write_incompressible_file(content, layer_sizes[n], seed * 1000 + n);
        wbclient::LayerBuilder layer;
        layer.add_file_from("data-" + std::to_string(n) + ".bin", content, 0644);
        layers.push_back({layer.write(directory / ("layer-" + std::to_string(n) + ".tar.gz")),
                          "ADD data-" + std::to_string(n) + ".bin /"});
        std::filesystem::remove(content);
    }
    wbclient::ImageSpec spec;
    spec.cmd = {"/bin/true"};
    spec.labels["org.opencontainers.image.title"] = "large-image-" + std::to_string(seed);
    return wbclient::assemble_image(spec, std::move(layers));
}

}  // namespace harness
