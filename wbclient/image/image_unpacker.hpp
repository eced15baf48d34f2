// Whole images unpacked the way container runtimes do: every layer in order, onto one rootfs,
// with the OCI image-spec's whiteouts applied.
#pragma once

#include "wbclient/image/layer_extractor.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace wbclient {

struct UnpackedImage {
    std::size_t layers = 0;
    std::size_t entries = 0;    ///< tar entries read, whiteouts included
    std::uint64_t bytes = 0;    ///< the regular files' contents written, over all layers
    std::size_t whiteouts = 0;  ///< `.wh.<name>` and `.wh..wh..opq` entries applied
};

/// Unpacks the gzipped (or plain) tar layers `layer_files`, base layer first, into the new
/// folder `target`, by the OCI image-spec's layer rules (the "changeset" rules):
/// - an entry replaces what a lower layer left at its path: a file may become a folder and a
///   folder a file (the folder with all it held); a folder over a folder merges;
/// - `.wh.<name>` deletes `<name>` (and all below it) as the lower layers left it, and
///   `.wh..wh..opq` empties its folder of everything the lower layers put there; neither
///   appears in the rootfs, whatever its place in the layer's tar;
/// - a hard link may name a file of a lower layer.
/// Every rule of extract_layer holds for the whole stack: no path that escapes, no writing or
/// deleting through a symlink (a lower layer's included), symlinks resolving inside the rootfs
/// once all layers are down, no devices, no setuid/setgid, `limits` counted over all layers.
/// Everything happens in a StagedDirectory: on failure `target` does not appear. Throws
/// LayerEntryRefused for an entry it refuses, std::runtime_error for a layer it cannot read;
/// either message is one line.
UnpackedImage unpack_layers(const std::vector<std::filesystem::path>& layer_files,
                            const std::filesystem::path& target, const ExtractionLimits& limits = {});

/// The image held by the OCI layout `layout` (as pull_to_layout or `skopeo copy ... oci:`
/// write it), unpacked into `target` with unpack_layers. The layout's index.json must name one
/// image manifest (not an index: pick the platform first), and its layers must be tars, plain
/// or gzipped; anything else is refused with std::invalid_argument. The layout's blobs are
/// trusted to match their digests, as verify_oci_layout checks.
UnpackedImage unpack_image(const std::filesystem::path& layout, const std::filesystem::path& target,
                           const ExtractionLimits& limits = {});

}  // namespace wbclient
