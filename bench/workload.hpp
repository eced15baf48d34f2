// The benchmark's image: deterministic incompressible layers in an OCI layout, regenerated on
// every run (never stored), so every tool moves exactly the same bytes.
#pragma once

#include "wbclient/model/manifest.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bench {

/// An image written as an OCI layout, with what the tools and the checks need to know of it.
struct BenchImage {
    std::filesystem::path layout;
    std::string tag = "latest";
    wbclient::Descriptor manifest;
    std::string manifest_bytes;
    std::vector<wbclient::Descriptor> blobs;  ///< the config, then the layers

    std::filesystem::path blob_file(const wbclient::Digest& digest) const {
        return layout / "blobs" / "sha256" / std::string(digest.hex());
    }
    std::filesystem::path manifest_file() const { return blob_file(manifest.digest); }
    /// Every byte a transfer moves: the blobs and the manifest.
    std::uint64_t total_bytes() const;
};

/// How the layers are written, for the report.
inline constexpr const char* layer_encoding =
    "tar+gzip at zlib level 0 (stored blocks: random bytes\ndo not shrink at any level, and "
    "compressing them would make generating the image take minutes)";

/// Writes `layers` layers, each one tar entry of `layer_bytes` bytes from a deterministic
/// pseudo-random stream, gzipped at level 0, plus an OCI config and manifest, as a new OCI
/// layout at `layout` (tag "latest"). Built with the library (LayerBuilder, assemble_image, write_image_layout).
BenchImage generate_image(const std::filesystem::path& layout, unsigned layers,
                          std::uint64_t layer_bytes, std::uint64_t seed);

}  // namespace bench
