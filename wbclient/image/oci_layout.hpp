// OCI image layouts on disk: oci-layout, index.json and blobs/sha256/<hex>, written safely.
#pragma once

#include "wbclient/model/digest.hpp"
#include "wbclient/http/http.hpp"
#include "wbclient/model/manifest.hpp"
#include "wbclient/image/staged_directory.hpp"

#include <filesystem>
#include <functional>
#include <string>

namespace wbclient {

/// Writes an OCI image layout into a temporary sibling folder (a StagedDirectory) and renames it
/// into place only on commit(), so a failed or killed pull never leaves a half-written layout
/// under the final name.
class OciLayoutWriter {
public:
    /// Refuses a destination that already exists: pulling never overwrites.
    explicit OciLayoutWriter(std::filesystem::path destination);
    OciLayoutWriter(const OciLayoutWriter&) = delete;
    OciLayoutWriter& operator=(const OciLayoutWriter&) = delete;

    /// Stores one blob. `produce` streams its bytes into the given sink; they are written to a
    /// temporary file, hashed on the way, and kept only if size and digest match `blob`.
    void add_blob(const Descriptor& blob, const std::function<void(const BodySink&)>& produce);
    void add_blob(const Descriptor& blob, const std::string& bytes);
    /// Like add_blob, for a producer that checks size and digest itself and throws when they
    /// differ, as RegistryClient::fetch_blob does: the bytes are hashed once, not twice. The
    /// size is still checked here, and the file is kept only if `produce` returned normally.
    /// Different blobs may be added from different threads at once.
    void add_verified_blob(const Descriptor& blob,
                           const std::function<void(const BodySink&)>& produce);
    bool has_blob(const Digest& digest) const;

    /// Writes index.json naming `manifest` (with `ref_name` as its
    /// org.opencontainers.image.ref.name) and moves the layout into place.
    void commit(const Descriptor& manifest, const std::string& ref_name);

private:
    std::filesystem::path blob_path(const Digest& digest) const;

    StagedDirectory staged_;
};

/// Where a layout keeps a blob: `<layout>/blobs/sha256/<hex>`.
inline std::filesystem::path layout_blob_path(const std::filesystem::path& layout, const Digest& digest) {
    return layout / "blobs" / "sha256" / std::string(digest.hex());
}

/// Re-reads a layout and re-hashes every blob that index.json reaches. Throws with a
/// one-line reason at the first problem; returns how many blobs were verified.
std::size_t verify_oci_layout(const std::filesystem::path& layout);

}  // namespace wbclient
