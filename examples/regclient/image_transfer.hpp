// Whole images: copy one registry's image to another, and pull one into an OCI layout.
#pragma once

#include "regclient/reference.hpp"
#include "regclient/registry_client.hpp"

#include <filesystem>
#include <functional>
#include <string>

namespace regclient {

/// What a transfer did with one blob, for the narration.
struct BlobEvent {
    const Descriptor& blob;
    std::string action;  ///< "exists", "copied", "pulled"
};
using BlobObserver = std::function<void(const BlobEvent&)>;

/// Streams one blob from `from` to `to` without holding it in memory: a download thread
/// feeds the upload through a bounded buffer, hashing on the way. Skips the copy when a
/// HEAD shows the destination already has it. Returns true if bytes were copied.
bool copy_blob(RegistryClient& from, std::string_view from_repository, RegistryClient& to,
               std::string_view to_repository, const Descriptor& blob);

/// Copies an image (a manifest with its config and layers, or an index with all of its
/// manifests) and pushes the manifest byte for byte, so its digest is unchanged.
/// Returns the manifest's digest.
Digest copy_image(RegistryClient& from, const Reference& source, RegistryClient& to,
                  const Reference& destination, const BlobObserver& observe = {});

/// Pulls an image into a new OCI layout at `layout`, verifying every byte against its
/// digest; the layout appears only if everything verified. Returns the manifest's digest.
Digest pull_to_layout(RegistryClient& registry, const Reference& image,
                      const std::filesystem::path& layout, const BlobObserver& observe = {});

}  // namespace regclient
