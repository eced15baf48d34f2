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
bool mount_or_fill(RegistryClient& registry, std::string_view repository, const Descriptor& blob,
                   std::string_view mount_from, const SessionFiller& fill) {
    const MountResult mount = request_mount(registry, repository, blob.digest, mount_from);
    if (mount.mounted) return true;
    // The registry already opened a session for us: use it rather than open another.
    try {
        fill(mount.upload_location);
    } catch (...) {
        // Leave no session behind; the first error is the one worth reporting.
        try {
            cancel_upload(registry, mount.upload_location);
        } catch (const std::exception&) {
        }
        throw;
    }
    return false;
}

BlobArrival ensure_blob(RegistryClient& registry, std::string_view repository,
                        const Descriptor& blob, const std::filesystem::path& file,
                        std::string_view mount_from) {
    if (registry.blob_size(repository, blob.digest) == blob.size) return BlobArrival::already_there;
    if (mount_from.empty() || mount_from == repository) {
        registry.push_blob(repository, blob, file);
        return BlobArrival::uploaded;
    }
    const bool mounted = mount_or_fill(registry, repository, blob, mount_from, [&](const std::string& location) {
        upload_to_session(registry, location, blob, file);
    });
    return mounted ? BlobArrival::mounted : BlobArrival::uploaded;
}
//! [head_mount_upload]

}  // namespace wbclient
