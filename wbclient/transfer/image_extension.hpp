// Extending images: a base image as the registry stores it, one layer more on top, and the
// push that re-uses the base's layers instead of sending them again.
#pragma once

#include "wbclient/image/image_builder.hpp"
#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/model/reference.hpp"
#include "wbclient/distribution/registry_client.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// A base image, pulled: its manifest and config byte for byte, and where its layers are.
struct BaseImage {
    Reference reference;
    Descriptor manifest_blob;
    std::string manifest;
    Manifest parsed;
    std::string config;
    /// The OCI layout it was pulled into: `blobs/sha256/<hex>` holds every layer.
    std::filesystem::path layout;
};

/// `FROM base`: pulls `reference` into a new OCI layout at `layout` (every digest verified,
/// as in chapter 01) and reads its manifest and config back from there. Throws
/// std::invalid_argument for an index: name one platform's manifest by digest instead.
BaseImage pull_base_image(RegistryClient& registry, const Reference& reference,
                          const std::filesystem::path& layout, const BlobObserver& observe = {});

/// The gzipped layer media type that belongs with a manifest's format: an OCI manifest
/// names OCI layers, a Docker schema 2 manifest Docker ones.
std::string_view layer_media_type_for(const BaseImage& base);

/// What an extending image adds: `FROM base` + one `COPY`, and maybe a new `CMD`.
struct Extension {
    BuiltLayer layer;
    std::string created_by;        ///< its line in the config's history
    std::vector<std::string> cmd;  ///< empty: keep the base's Cmd
    /// A fixed time, as in chapter 03: a clock reading would make every build a new image.
    std::string created = "1970-01-01T00:00:00Z";
};

/// Writes the extending image: the base's config with `extension.layer`'s diff_id appended
/// to rootfs.diff_ids, one history entry more and `created` (and Cmd, if given) replaced,
/// everything else kept as it was, in the base's key order; and the base's manifest with the
/// new config and one layer descriptor more. The base's layers stay the very same blobs.
/// Throws std::invalid_argument when the layer's media type is not the base's format's, or
/// the base's config does not list one diff_id per layer.
BuiltImage extend_image(const BaseImage& base, const Extension& extension);

enum class PushMode {
    /// `docker push`: HEAD each blob; mount the base's layers from the base's repository
    /// when pushing to another repository of the same registry; upload only what is left.
    reuse_layers,
    /// No questions asked: every blob is uploaded again, as a client without HEAD or mount would.
    upload_everything
};

/// Pushes `image` (built on `base`) as `destination`: the blobs, then the manifest.
/// `observe` hears already_there, mounted or uploaded per blob. Returns the manifest's digest.
Digest push_extending_image(RegistryClient& registry, const Reference& destination,
                            const BuiltImage& image, const BaseImage& base, PushMode mode,
                            const BlobObserver& observe = {});

}  // namespace wbclient
