#include "wbclient/image/image_unpacker.hpp"

#include "wbclient/image/layer_writer.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/model/files.hpp"
#include "wbclient/model/manifest.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

namespace wbclient {
namespace fs = std::filesystem;

namespace {

// The layer types a runtime unpacks with tar and gzip alone (zstd and the like are refused).
bool is_tar_layer(std::string_view type) {
    constexpr std::array<std::string_view, 6> tars = {
        media_type::oci_layer_gzip,
        media_type::docker_layer_gzip,
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"};
    return std::find(tars.begin(), tars.end(), type) != tars.end();
}

}  // namespace

UnpackedImage unpack_layers(const std::vector<fs::path>& layer_files, const fs::path& target,
                            const ExtractionLimits& limits) {
    StagedDirectory staged(target);
    detail::LayerWriter writer(staged.path(), limits);
    for (const fs::path& layer : layer_files) writer.apply(layer, detail::Whiteouts::applied);
    writer.check_symlinks("image " + target.filename().string(), "image");
    staged.commit();
    return {.layers = layer_files.size(),
            .entries = writer.totals().entries,
            .bytes = writer.totals().bytes,
            .whiteouts = writer.whiteouts()};
}

UnpackedImage unpack_image(const fs::path& layout, const fs::path& target, const ExtractionLimits& limits) {
    if (!fs::exists(layout / "oci-layout"))
        throw std::invalid_argument(layout.string() + " is not an OCI layout (no oci-layout file)");
    const Manifest index = Manifest::parse(read_file(layout / "index.json"), media_type::oci_index);
    if (index.manifests.size() != 1)
        throw std::invalid_argument(layout.string() + " names " + std::to_string(index.manifests.size()) +
                                    " images; unpack_image takes a layout of one");
    const Descriptor& named = index.manifests.front();
    if (!is_manifest_type(named.media_type))
        throw std::invalid_argument(layout.string() + " names a " + named.media_type +
                                    ", not an image manifest: pick one platform's image first");
    const Manifest manifest = Manifest::parse(read_file(layout_blob_path(layout, named.digest)), named.media_type);
    std::vector<fs::path> layer_files;
    for (const Descriptor& layer : manifest.layers) {
        if (!is_tar_layer(layer.media_type))
            throw std::invalid_argument("layer " + layer.digest.str() + " has media type " + layer.media_type +
                                        "; only tar layers, plain or gzipped, are unpacked");
        layer_files.push_back(layout_blob_path(layout, layer.digest));
    }
    return unpack_layers(layer_files, target, limits);
}

}  // namespace wbclient
