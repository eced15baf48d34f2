// Making a blob present in a repository the cheapest way: ask (HEAD), borrow it from another
// repository of the same registry (a cross-repository mount), and only then send its bytes.
#pragma once

#include "wbclient/manifest.hpp"
#include "wbclient/registry_client.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace wbclient {

/// What a mount request got: the blob itself, or an ordinary upload session instead.
struct MountResult {
    /// 201 Created: the registry linked the blob into the repository; no bytes needed.
    bool mounted = false;
    /// 202 Accepted: the registry could not mount (it does not have the blob in `from`, or
    /// cannot read `from`) and opened an upload session here, absolute. The caller must
    /// finish it with upload_to_session() or give it back with cancel_upload().
    std::string upload_location;
};

/// POST /v2/<to>/blobs/uploads/?mount=<digest>&from=<from>: asks the registry to link a blob
/// it already stores for `from` into `to`. Throws RegistryError on anything but 201 or 202.
MountResult request_mount(RegistryClient& registry, std::string_view to_repository,
                          const Digest& digest, std::string_view from_repository);

/// PUT <location>&digest=<digest> with the blob's bytes from `file`: finishes an upload
/// session opened earlier (by a mount that answered 202, say) in one request.
void upload_to_session(RegistryClient& registry, const std::string& location,
                       const Descriptor& blob, const std::filesystem::path& file);
/// The same with the bytes from `source` (a download in progress, say), which must yield
/// exactly blob.size bytes; it is sent once, never rewound.
void upload_to_session(RegistryClient& registry, const std::string& location,
                       const Descriptor& blob, const BodySource& source);

/// DELETE <location>: the registry forgets an upload session (204) and what it received.
void cancel_upload(RegistryClient& registry, const std::string& location);

/// How a blob came to be in a repository, cheapest first.
enum class BlobArrival {
    already_there,  ///< HEAD answered 200: nothing sent
    mounted,        ///< a cross-repository mount answered 201: nothing sent
    uploaded        ///< its bytes crossed the wire
};
/// "exists", "mounted", "pushed": the words docker push uses, shortened.
std::string_view to_string(BlobArrival arrival);

/// Makes `blob` present in `repository`: a HEAD first; if it answers 404 and `mount_from`
/// names another repository of the same registry, a mount; if that opens an upload session
/// instead (202), the bytes from `file` go into that very session; without `mount_from`, a
/// plain upload. Returns what it took.
BlobArrival ensure_blob(RegistryClient& registry, std::string_view repository,
                        const Descriptor& blob, const std::filesystem::path& file,
                        std::string_view mount_from = {});

}  // namespace wbclient
