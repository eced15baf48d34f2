#include "wbclient/blob_mount.hpp"

#include <fstream>

namespace wbclient {
MountResult request_mount(RegistryClient& registry, std::string_view to_repository,
                          const Digest& digest, std::string_view from_repository) {
    const Request request{
        .method = "POST",
        .url = registry.url(to_repository, "blobs/uploads/?mount=" + digest.str() +
                                               "&from=" + std::string(from_repository))};
    const Response response = registry.http().perform(request);
    if (response.status == 201) return MountResult{.mounted = true};
    if (response.status != 202) throw RegistryError(request, response);
    const auto location = response.headers.get("Location");
    if (!location)
        throw std::runtime_error("POST " + request.url + ": 202 without a Location header");
    return MountResult{.mounted = false, .upload_location = registry.absolute(*location)};
}

void upload_to_session(RegistryClient& registry, const std::string& location,
                       const Descriptor& blob, const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + file.string());
    // The Location carries the session's state; the digest joins its query.
    const std::string url = location + (location.find('?') == std::string::npos ? "?" : "&") +
                            "digest=" + blob.digest.str();
    Request put{.method = "PUT",
                .url = url,
                .source =
                    [&](char* buffer, std::size_t capacity) {
                        in.read(buffer, static_cast<std::streamsize>(capacity));
                        if (in.bad()) throw std::runtime_error("error reading " + file.string());
                        return static_cast<std::size_t>(in.gcount());
                    },
                .source_size = blob.size,
                .rewind_source =
                    [&] {
                        in.clear();
                        return static_cast<bool>(in.seekg(0));
                    }};
    put.headers.add("Content-Type", "application/octet-stream");
    const Response response = registry.http().perform(put);
    if (response.status != 201) throw RegistryError(put, response);
}

void upload_to_session(RegistryClient& registry, const std::string& location,
                       const Descriptor& blob, const BodySource& source) {
    Request put{.method = "PUT",
                .url = location + (location.find('?') == std::string::npos ? "?" : "&") +
                       "digest=" + blob.digest.str(),
                .source = source,
                .source_size = blob.size};
    put.headers.add("Content-Type", "application/octet-stream");
    const Response response = registry.http().perform(put);
    if (response.status != 201) throw RegistryError(put, response);
}

void cancel_upload(RegistryClient& registry, const std::string& location) {
    const Request request{.method = "DELETE", .url = location};
    const Response response = registry.http().perform(request);
    if (response.status != 204) throw RegistryError(request, response);
}

std::string_view to_string(BlobArrival arrival) {
    switch (arrival) {
        case BlobArrival::already_there:
            return "exists";
        case BlobArrival::mounted:
            return "mounted";
        case BlobArrival::uploaded:
            break;
    }
    return "pushed";
}

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

}  // namespace wbclient
