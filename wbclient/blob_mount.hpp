// Making a blob present in a repository the cheapest way: ask (HEAD), borrow it from another
// repository of the same registry (a cross-repository mount), and only then send its bytes.
#pragma once

#include "wbclient/manifest.hpp"
#include "wbclient/distribution/registry_client.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace wbclient {

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
