#include "wbclient/distribution/blobs.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/registry_error.hpp"

#include <stdexcept>

namespace wbclient {

//! [blob_head]
std::optional<std::uint64_t> blob_size(RegistryClient& client, std::string_view repository, const Digest& digest) {
    const Request request{.method = "HEAD", .url = client.url(repository, "blobs/" + digest.str())};
    const Response response = perform_expecting(client.http(), request, {200, 404});
    if (response.status == 404) return std::nullopt;
    const auto length = response.headers.get("Content-Length");
    if (!length) throw std::runtime_error("HEAD " + request.url + ": no Content-Length");
    return std::stoull(*length);
}
//! [blob_head]

void fetch_blob(RegistryClient& client, std::string_view repository, const Descriptor& blob, const BodySink& sink) {
    Sha256 hash;
    std::uint64_t received = 0;
    const BodySink hashing_sink = [&](const char* data, std::size_t size) {
        received += size;
        if (received > blob.size)
            throw std::runtime_error("blob " + blob.digest.str() + " is larger than its " +
                                     std::to_string(blob.size) + " declared bytes");
        hash.update(data, size);
        sink(data, size);
    };
    perform_expecting(client.http(),
                      Request{.method = "GET", .url = client.url(repository, "blobs/" + blob.digest.str())}, {200},
                      hashing_sink);
    if (received != blob.size)
        throw std::runtime_error("blob " + blob.digest.str() + " ended after " + std::to_string(received) + " of " +
                                 std::to_string(blob.size) + " bytes");
    if (const Digest actual = hash.finish(); actual != blob.digest)
        throw DigestMismatch("blob " + blob.digest.str() + " arrived with digest " + actual.str(), blob.digest, actual);
}

void delete_blob(RegistryClient& client, std::string_view repository, const Digest& digest) {
    const Request request{.method = "DELETE", .url = client.url(repository, "blobs/" + digest.str())};
    const Response response = client.http().perform(request);
    if (response.status != 202) throw RegistryError(request, response, explain_delete_refusal(request, response));
}

}  // namespace wbclient
