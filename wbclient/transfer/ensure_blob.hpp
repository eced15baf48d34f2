// Making a blob present in a repository the cheapest way: ask (HEAD), borrow it from another
// repository of the same registry (a cross-repository mount), and only then send its bytes.
#pragma once

#include "wbclient/model/manifest.hpp"
#include "wbclient/distribution/registry_client.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace wbclient {

/// What a transfer did with one blob: how it came to be in the repository (the first three,
/// cheapest first, are all ensure_blob can answer) or, for a pull, into the layout.
enum class BlobAction {
    already_there,  ///< HEAD answered 200: nothing sent
    mounted,        ///< a cross-repository mount answered 201: nothing sent
    uploaded,       ///< its bytes crossed the wire
    copied,         ///< streamed from another registry, verified on the way
    pulled          ///< downloaded and verified into a layout
};
/// ensure_blob's answer: one of already_there, mounted or uploaded.
using BlobArrival = BlobAction;
/// "exists", "mounted", "pushed", "copied", "pulled": the words docker push uses, shortened.
std::string_view to_string(BlobAction action);

/// Sends a blob's bytes into the upload session at `location` (upload_to_session).
using SessionFiller = std::function<void(const std::string& location)>;

/// Asks the registry to mount `blob` from `mount_from` into `repository` (POST ?mount=&from=).
/// True if it did (201). If it opened an upload session instead (202: it lacks the blob there,
/// or may not read it), `fill` sends the bytes into that very session rather than another one,
/// and a failed fill gives the session back (DELETE) before the error goes on. The one home of
/// that rule, for every push that mounts.
bool mount_or_fill(RegistryClient& registry, std::string_view repository, const Descriptor& blob,
                   std::string_view mount_from, const SessionFiller& fill);

/// Makes `blob` present in `repository`: a HEAD first; if it answers 404 and `mount_from`
/// names another repository of the same registry, a mount; if that opens an upload session
/// instead (202), the bytes from `file` go into that very session; without `mount_from`, a
/// plain upload. Returns what it took.
BlobArrival ensure_blob(RegistryClient& registry, std::string_view repository,
                        const Descriptor& blob, const std::filesystem::path& file,
                        std::string_view mount_from = {});

}  // namespace wbclient
