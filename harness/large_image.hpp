// Images big enough that a transfer takes a while: layers of deterministic bytes that gzip
// cannot shrink, so the blob on the wire is as large as the file in the layer.
#pragma once

#include "noise.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/layer_builder.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace harness {

/// An OCI image of one layer per entry of `layer_sizes`, each layer one file `/data-<n>.bin`
/// of that many bytes of noise (noise.hpp). Files are built under `directory`; the same
/// sizes and seed always give the same digests.
inline wbclient::BuiltImage build_large_image(const std::filesystem::path& directory,
                                               const std::vector<std::uint64_t>& layer_sizes,
                                               std::uint64_t seed) {
    std::filesystem::create_directories(directory);
    std::vector<wbclient::ImageLayer> layers;
    for (std::size_t n = 0; n < layer_sizes.size(); ++n) {
        const auto content = directory / ("data-" + std::to_string(n) + ".bin");
        workbook::write_noise(content, layer_sizes[n], seed * 1000 + n);
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
