// The per-blob "how" of a whole-image transfer: makes one planned blob present in a
// repository the cheapest way its plan allows (ask, mount, send), whatever its bytes come
// from: a file, memory, or a download from another registry streamed into the upload.
#pragma once

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/transfer/ensure_blob.hpp"
#include "wbclient/transfer/transfer_plan.hpp"

#include <functional>
#include <string_view>

namespace wbclient {

/// Makes `planned.blob` present in `repository` at `to`:
/// - from a file: ensure_blob (HEAD with the blob's size, mount, upload; chapter 05), or
///   straight to the upload when the plan does not ask first;
/// - from memory: HEAD with the blob's size, mount if the plan names a repository, upload;
/// - from a registry: HEAD (present is enough: the registry checked the digest when it stored
///   it), mount if the plan names a repository, else a download streamed into the upload
///   through `reader`, verified on the way.
/// A mount the registry refuses opens an upload session, which the bytes then fill (or which is
/// cancelled if that fails). Returns already_there, mounted, uploaded (file, memory) or copied.
BlobAction deliver_blob(RegistryClient& to, std::string_view repository, const PlannedBlob& planned,
                        RegistryClient* reader);

/// Downloads `blob` on a thread of its own and hands `upload` a source yielding its bytes as
/// they arrive, verified: stream_blob, defined beside its pipe in image_transfer.cpp.
void stream_registry_blob(RegistryClient& from, std::string_view from_repository, const Descriptor& blob,
                          const std::function<void(const BodySource&)>& upload);

}  // namespace wbclient
