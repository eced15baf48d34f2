// One plan for every whole-image transfer (push, pull, copy): which blobs must be present, in
// what order, where each one's bytes come from, and which manifests go after them, every index
// after the manifests it names. Made from a built image, an OCI layout or an image in a
// registry; run by transfer_pool.hpp. Planning reads manifests (from disk or the source
// registry) but moves no blob.
#pragma once

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/model/manifest.hpp"
#include "wbclient/model/reference.hpp"

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace wbclient {

/// Where a blob's bytes come from, should they have to travel.
struct BlobInFile {
    std::filesystem::path file;  ///< a layer built or kept on disk
};
struct BlobInMemory {
    std::string bytes;  ///< small documents: a config
};
struct BlobInRegistry {
    std::string repository;  ///< in the plan's source registry (TransferPlan::source)
};
using BlobOrigin = std::variant<BlobInFile, BlobInMemory, BlobInRegistry>;

/// One blob of the plan and how to make it present at the destination.
struct PlannedBlob {
    Descriptor blob;
    BlobOrigin origin;
    /// false: send it without asking first (no HEAD), as a client without HEAD or mount would.
    bool ask_first = true;
    /// A repository of the destination's registry that holds it: try a cross-repository mount
    /// before sending bytes. Empty: no mount.
    std::string mount_from;
};

/// A manifest or index pushed byte for byte after the blobs.
struct PlannedManifest {
    Descriptor descriptor;
    std::string bytes;
};

struct TransferPlan {
    std::vector<PlannedBlob> blobs;          ///< each once, in manifest order
    std::vector<PlannedManifest> manifests;  ///< every index after its children; the image's own last
    /// Where BlobInRegistry blobs live; null when none does.
    RegistryClient* source = nullptr;
};

/// A built image (docker push): its layers from their files, then its config from memory,
/// each asked for first (HEAD) unless `ask_first` is false; then its manifest. A layer listed
/// twice stays twice: the second HEAD finds the first one's upload.
TransferPlan plan_built_image(const BuiltImage& image, bool ask_first = true);

/// The image an OCI layout's index.json names for `destination` (its only manifest, or the one
/// whose org.opencontainers.image.ref.name is the destination's tag, or whose digest the
/// destination pins): manifests checked against their digests, blob files checked for presence
/// and size before any request.
TransferPlan plan_layout(const std::filesystem::path& layout, const Reference& destination);

/// An image in a registry (`source` by tag or digest): its manifests fetched (an index's
/// children recursively), its blobs to be read from `registry`, which the plan keeps a pointer to.
TransferPlan plan_remote_image(RegistryClient& registry, const Reference& source);

}  // namespace wbclient
