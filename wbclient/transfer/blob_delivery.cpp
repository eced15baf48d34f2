#include "wbclient/transfer/blob_delivery.hpp"

#include <algorithm>
#include <stdexcept>

namespace wbclient {
namespace {

template <class... Ways>
struct Overloaded : Ways... {
    using Ways::operator()...;
};

bool mounts(const PlannedBlob& planned, std::string_view repository) {
    return !planned.mount_from.empty() && planned.mount_from != repository;
}

}  // namespace

BlobAction deliver_blob(RegistryClient& to, std::string_view repository, const PlannedBlob& planned,
                        RegistryClient* reader) {
    const Descriptor& blob = planned.blob;
    return std::visit(
        Overloaded{
            [&](const BlobInFile& origin) {
                if (planned.ask_first) return ensure_blob(to, repository, blob, origin.file, planned.mount_from);
                to.push_blob(repository, blob, origin.file);
                return BlobAction::uploaded;
            },
            [&](const BlobInMemory& origin) {
                if (planned.ask_first && to.blob_size(repository, blob.digest) == blob.size)
                    return BlobAction::already_there;
                if (!mounts(planned, repository)) {
                    to.push_blob(repository, origin.bytes);
                    return BlobAction::uploaded;
                }
                const bool mounted = mount_or_fill(to, repository, blob, planned.mount_from, [&](const std::string& location) {
                    std::size_t offset = 0;
                    upload_to_session(to, location, blob, [&](char* buffer, std::size_t capacity) {
                        const std::size_t n = std::min(capacity, origin.bytes.size() - offset);
                        std::copy_n(origin.bytes.data() + offset, n, buffer);
                        offset += n;
                        return n;
                    });
                });
                return mounted ? BlobAction::mounted : BlobAction::uploaded;
            },
            [&](const BlobInRegistry& origin) {
                if (!reader) throw std::logic_error("a blob from a registry needs a client to read it with");
                if (planned.ask_first && to.blob_size(repository, blob.digest)) return BlobAction::already_there;
                if (!mounts(planned, repository)) {
                    stream_registry_blob(*reader, origin.repository, blob, [&](const BodySource& bytes) {
                        to.push_blob(repository, blob.digest, blob.size, bytes);
                    });
                    return BlobAction::copied;
                }
                const bool mounted = mount_or_fill(to, repository, blob, planned.mount_from, [&](const std::string& location) {
                    stream_registry_blob(*reader, origin.repository, blob, [&](const BodySource& bytes) {
                        upload_to_session(to, location, blob, bytes);
                    });
                });
                return mounted ? BlobAction::mounted : BlobAction::copied;
            }},
        planned.origin);
}

}  // namespace wbclient
