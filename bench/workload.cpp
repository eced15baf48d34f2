#include "workload.hpp"

#include "noise.hpp"

#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/built_image_layout.hpp"
#include "wbclient/image/layer_builder.hpp"

#include <fstream>
#include <stdexcept>

namespace bench {
namespace fs = std::filesystem;

std::uint64_t BenchImage::total_bytes() const {
    std::uint64_t total = manifest.size;
    for (const auto& blob : blobs) total += blob.size;
    return total;
}

BenchImage generate_image(const fs::path& layout, unsigned layers, std::uint64_t layer_bytes,
                          std::uint64_t seed) {
    fs::remove_all(layout);
    const fs::path scratch = layout.string() + ".scratch";
    fs::remove_all(scratch);
    fs::create_directories(scratch);

    std::vector<wbclient::ImageLayer> built;
    for (unsigned n = 0; n < layers; ++n) {
        const std::string name = "bench/data-" + std::to_string(n) + ".bin";
        const fs::path noise = scratch / ("noise-" + std::to_string(n));
        // Noise (noise.hpp), written 1 MiB at a time: even the 1 GiB layer never sits in memory.
        workbook::write_noise(noise, layer_bytes, seed * 1000 + n);
        wbclient::LayerBuilder layer;
        layer.add_file_from(name, noise, 0644);
        // Level 0: random bytes do not shrink at any level, and compressing them would make
        // generating the image take minutes.
        layer.set_compression_level(0);
        built.push_back({layer.write(scratch / ("layer-" + std::to_string(n) + ".tar.gz")),
                         "ADD " + name + " /"});
        fs::remove(noise);
    }
    wbclient::ImageSpec spec;
    spec.labels["org.opencontainers.image.title"] = "registry-workbook-bench";
    const wbclient::BuiltImage image = wbclient::assemble_image(spec, std::move(built));
    // The layout writer hashes every blob it stores and renames the layout into place only
    // when all of it verified: every tool then reads the same, proven bytes.
    wbclient::write_image_layout(image, layout, "latest");
    fs::remove_all(scratch);

    BenchImage result{.layout = layout, .manifest = image.manifest_blob,
                      .manifest_bytes = image.manifest};
    result.blobs.push_back(image.config_blob);
    for (const auto& layer : image.layers) result.blobs.push_back(layer.built.blob);
    return result;
}

}  // namespace bench
