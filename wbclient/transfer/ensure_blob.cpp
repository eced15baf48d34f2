#include "wbclient/transfer/ensure_blob.hpp"

#include <fstream>

namespace wbclient {
std::string_view to_string(BlobAction action) {
    switch (action) {
        case BlobAction::already_there:
            return "exists";
        case BlobAction::mounted:
            return "mounted";
        case BlobAction::uploaded:
            return "pushed";
        case BlobAction::copied:
            return "copied";
        case BlobAction::pulled:
            break;
    }
    return "pulled";
}

//! [head_mount_upload]
BlobArrival ensure_blob(RegistryClient& registry, std::string_view repository,
                        const Descriptor& blob, const std::filesystem::path& file,
                        std::string_view mount_from) {
    if (registry.blob_size(repository, blob.digest) == blob.size) return BlobArrival::already_there;
    if (mount_from.empty() || mount_from == repository) {
        registry.push_blob(repository, blob, file);
        return BlobArrival::uploaded;
    }
    const MountResult mount = request_mount(registry, repository, blob.digest, mount_from);
    if (mount.mounted) return BlobArrival::mounted;
    // The registry already opened a session for us: use it rather than open another.
    try {
        upload_to_session(registry, mount.upload_location, blob, file);
    } catch (...) {
        // Leave no session behind; the first error is the one worth reporting.
        try {
            cancel_upload(registry, mount.upload_location);
        } catch (const std::exception&) {
        }
        throw;
    }
    return BlobArrival::uploaded;
}
//! [head_mount_upload]

}  // namespace wbclient
