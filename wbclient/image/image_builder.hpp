// Images from scratch: the config JSON and the manifest around built layers (the push is
// transfer/image_transfer.hpp's push_image).
#pragma once

#include "wbclient/image/layer_builder.hpp"
#include "wbclient/model/reference.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// The two ways to write down the same image. The config and layer bytes are identical in
/// both; only the media types, and so the manifest and its digest, differ.
enum class ImageFormat {
    oci,            ///< application/vnd.oci.image.manifest.v1+json and friends
    docker_schema2  ///< application/vnd.docker.distribution.manifest.v2+json and friends
};

/// The media types one format uses for its manifest, config and gzipped layers.
struct ImageMediaTypes {
    std::string_view manifest;
    std::string_view config;
    std::string_view layer;
};
ImageMediaTypes media_types_of(ImageFormat format);

/// The architecture this program was compiled for, in the GOARCH spelling images use
/// ("amd64", "arm64", ...): a binary built here runs on this platform.
std::string_view host_architecture();

/// What a config says about how to run the image, and the image's metadata.
struct ImageSpec {
    ImageFormat format = ImageFormat::oci;
    std::string os = "linux";
    std::string architecture = std::string(host_architecture());
    std::vector<std::string> cmd;
    std::vector<std::string> env;
    std::map<std::string, std::string> labels;
    /// A fixed creation time: a clock reading would make every build a new image.
    std::string created = "1970-01-01T00:00:00Z";
};

/// One layer of the image with the history line that explains where it came from.
struct ImageLayer {
    BuiltLayer built;
    std::string created_by;
};

/// A complete image, ready to push: the exact bytes of its config and manifest, and the
/// descriptors (media type, digest, size) that name them.
struct BuiltImage {
    std::vector<ImageLayer> layers;
    std::string config;
    Descriptor config_blob;
    std::string manifest;
    Descriptor manifest_blob;
};

/// Writes the config (rootfs.diff_ids in layer order, one history entry per layer,
/// config.Cmd/Env/Labels, os, architecture) and then the manifest that names the config and
/// the layers by digest. The same spec and layers always give the same bytes. Throws
/// std::invalid_argument if a layer's media type does not belong to `spec.format`.
BuiltImage assemble_image(const ImageSpec& spec, std::vector<ImageLayer> layers);

/// Adds everything under `source` to `layer`, below `prefix` (e.g. "" for the root): its
/// folders, regular files and symlinks, with their permission bits. Each file is opened once
/// here, so an unreadable file fails now, with its name, and not halfway through writing the
/// layer. Anything else (a device, a socket, a fifo) is refused.
void add_directory_tree(LayerBuilder& layer, const std::filesystem::path& source,
                        const std::string& prefix = "");

}  // namespace wbclient
