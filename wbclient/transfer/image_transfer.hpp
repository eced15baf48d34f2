// Whole images: push a built image, copy one registry's image to another, push an OCI layout,
// pull one into an OCI layout; blob by blob, or several blobs at once.
#pragma once

#include "wbclient/image/image_builder.hpp"
#include "wbclient/transfer/ensure_blob.hpp"
#include "wbclient/model/reference.hpp"
#include "wbclient/distribution/registry_client.hpp"

#include <filesystem>
#include <functional>
#include <string>

namespace wbclient {

/// What a transfer did with one blob, for the narration.
struct BlobEvent {
    const Descriptor& blob;
    BlobAction action;
};
using BlobObserver = std::function<void(const BlobEvent&)>;

/// How a whole-image transfer runs.
struct TransferOptions {
    unsigned parallel_blobs = 4;  ///< blobs in flight at once; 1 = one after another
    BlobObserver observe;         ///< may be empty; called from one thread at a time
    /// A copy within one registry links blobs into the new repository (cross-repository
    /// mount) instead of downloading, verifying and uploading them.
    bool mount_within_registry = true;
};

/// Streams one blob from `from` to `to` without holding it in memory: a download thread
/// feeds the upload through a bounded buffer, hashing on the way. Skips the copy when a
/// HEAD shows the destination already has it. Returns true if bytes were copied.
bool copy_blob(RegistryClient& from, std::string_view from_repository, RegistryClient& to,
               std::string_view to_repository, const Descriptor& blob);

/// Copies an image (a manifest with its config and layers, or an index with all of its
/// manifests) and pushes the manifest byte for byte, so its digest is unchanged. Within one
/// registry (same base URL) blobs are mounted from the source repository: no byte travels,
/// so none is checked either. Between registries each blob streams from download to upload,
/// verified on the way. Returns the manifest's digest.
Digest copy_image(RegistryClient& from, const Reference& source, RegistryClient& to,
                  const Reference& destination, const TransferOptions& options);
/// The plain copy: one blob after another, narrated in manifest order, and every blob
/// downloaded, verified and uploaded even within one registry (no mounts).
Digest copy_image(RegistryClient& from, const Reference& source, RegistryClient& to,
                  const Reference& destination, const BlobObserver& observe = {});

/// Pulls an image into a new OCI layout at `layout`, verifying every byte against its
/// digest; the layout appears only if everything verified. Returns the manifest's digest.
Digest pull_to_layout(RegistryClient& registry, const Reference& image,
                      const std::filesystem::path& layout, const TransferOptions& options);
/// The same, one blob after another, narrated in manifest order.
Digest pull_to_layout(RegistryClient& registry, const Reference& image,
                      const std::filesystem::path& layout, const BlobObserver& observe = {});

/// Pushes the image an OCI layout's index.json names (its only manifest, or the one whose
/// org.opencontainers.image.ref.name matches destination's tag) to `destination`: the
/// blobs the registry lacks (a HEAD asks), each in one streamed PUT, then the manifest(s)
/// byte for byte. The registry checks every blob's digest, so the files are not hashed on
/// the way. Returns the manifest's digest.
Digest push_layout(RegistryClient& registry, const std::filesystem::path& layout,
                   const Reference& destination, const TransferOptions& options = {});

/// `docker push`: uploads every layer (from its file) and the config, skipping blobs a HEAD
/// shows the repository already has, and only then PUTs the manifest under the reference's
/// tag (or digest): the registry refuses a manifest that names a blob it lacks. Returns the
/// manifest digest the registry confirmed. `observe` hears already_there or uploaded per blob.
Digest push_image(RegistryClient& registry, const Reference& destination, const BuiltImage& image,
                  const BlobObserver& observe = {});

}  // namespace wbclient
