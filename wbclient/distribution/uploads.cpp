#include "wbclient/distribution/uploads.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/registry_error.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace wbclient {
namespace {

// "0-<end>" → bytes held. 2.8.2 says "0-0" for an empty session too, so "0-0" means the
// count the caller expected when that is 0 or 1.
std::uint64_t bytes_held(const Request& request, const Response& response, std::uint64_t expected) {
    const auto range = response.headers.get("Range");
    if (!range) throw std::runtime_error(request.method + " " + request.url + ": no Range header in the answer");
    std::uint64_t end = 0;
    const char* last = range->data() + range->size();
    const auto [ptr, error] = range->starts_with("0-") ? std::from_chars(range->data() + 2, last, end)
                                                        : std::from_chars_result{range->data(), std::errc::invalid_argument};
    if (error != std::errc() || ptr != last)
        throw std::runtime_error(request.method + " " + request.url + ": malformed Range '" + *range + "'");
    return end == 0 && expected <= 1 ? expected : end + 1;
}

std::string percent_decoded(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned value = 0;
        if (text[i] == '%' && i + 2 < text.size() &&
            std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr == text.data() + i + 3) {
            out += static_cast<char>(value);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// The Location carries the session's state; the digest joins its query.
std::string with_digest(const std::string& location, const Digest& digest) {
    return location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + digest.str();
}

}  // namespace

//! [monolithic_upload]
std::string push_blob(RegistryClient& client, std::string_view repository, const Digest& digest,
                                      std::uint64_t size, const BodySource& source,
                                      const std::function<bool()>& rewind_source) {
    const Response session = perform_expecting(
        client.http(), Request{.method = "POST", .url = client.url(repository, "blobs/uploads/")}, {202});
    const auto location = session.headers.get("Location");
    if (!location) throw std::runtime_error("upload session without a Location header");

    Request put{.method = "PUT",
                .url = with_digest(client.absolute(*location), digest),
                .source = source,
                .source_size = size,
                .rewind_source = rewind_source};
    put.headers.add("Content-Type", "application/octet-stream");
    const Response stored = perform_expecting(client.http(), put, {201});
    return client.absolute(stored.headers.get("Location").value_or(client.url(repository, "blobs/" + digest.str())));
}
//! [monolithic_upload]

std::string push_blob(RegistryClient& client, std::string_view repository, const std::string& bytes) {
    std::size_t offset = 0;
    return push_blob(
        client, repository, digest_of(bytes), bytes.size(),
        [&](char* buffer, std::size_t capacity) {
            const std::size_t n = std::min(capacity, bytes.size() - offset);
            std::copy_n(bytes.data() + offset, n, buffer);
            offset += n;
            return n;
        },
        [&] {
            offset = 0;
            return true;
        });
}

std::string push_blob(RegistryClient& client, std::string_view repository, const Descriptor& blob,
                                      const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + file.string());
    return push_blob(
        client, repository, blob.digest, blob.size,
        [&](char* buffer, std::size_t capacity) {
            in.read(buffer, static_cast<std::streamsize>(capacity));
            if (in.bad()) throw std::runtime_error("error reading " + file.string());
            return static_cast<std::size_t>(in.gcount());
        },
        [&] {
            in.clear();
            return static_cast<bool>(in.seekg(0));
        });
}

//! [cross_repository_mount]
MountResult request_mount(RegistryClient& registry, std::string_view to_repository,
                          const Digest& digest, std::string_view from_repository) {
    const Request request{
        .method = "POST",
        .url = registry.url(to_repository, "blobs/uploads/?mount=" + digest.str() +
                                               "&from=" + std::string(from_repository))};
    const Response response = perform_expecting(registry.http(), request, {201, 202});
    if (response.status == 201) return MountResult{.mounted = true};
    const auto location = response.headers.get("Location");
    if (!location)
        throw std::runtime_error("POST " + request.url + ": 202 without a Location header");
    return MountResult{.mounted = false, .upload_location = registry.absolute(*location)};
}
//! [cross_repository_mount]

void upload_to_session(RegistryClient& registry, const std::string& location,
                       const Descriptor& blob, const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + file.string());
    Request put{.method = "PUT",
                .url = with_digest(registry.absolute(location), blob.digest),
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
    perform_expecting(registry.http(), put, {201});
}

void upload_to_session(RegistryClient& registry, const std::string& location,
                       const Descriptor& blob, const BodySource& source) {
    Request put{.method = "PUT",
                .url = with_digest(registry.absolute(location), blob.digest),
                .source = source,
                .source_size = blob.size};
    put.headers.add("Content-Type", "application/octet-stream");
    perform_expecting(registry.http(), put, {201});
}

void cancel_upload(RegistryClient& registry, const std::string& location) {
    const Request request{.method = "DELETE", .url = registry.absolute(location)};
    perform_expecting(registry.http(), request, {204});
}

BlobUpload BlobUpload::open(RegistryClient& client, std::string repository) {
    BlobUpload upload(client, std::move(repository));
    const Request request{.method = "POST", .url = client.url(upload.repository_, "blobs/uploads/")};
    const Response response = perform_expecting(client.http(), request, {202});
    upload.follow(request, response, 0);
    return upload;
}

BlobUpload BlobUpload::resume(RegistryClient& client, std::string repository, std::string location,
                              std::uint64_t acknowledged) {
    BlobUpload upload(client, std::move(repository));
    // A saved Location is as untrusted as a fresh one: the same rule, before any request.
    upload.location_ = client.absolute(location);
    upload.offset_ = acknowledged;
    upload.refresh();
    return upload;
}

void BlobUpload::follow(const Request& request, const Response& response, std::uint64_t expected) {
    const auto location = response.headers.get("Location");
    if (!location) throw std::runtime_error(request.method + " " + request.url + ": no Location header in the answer");
    // Both checked before either changes: a refused answer leaves the session as it was.
    std::string next = client_->absolute(*location);
    offset_ = bytes_held(request, response, expected);
    location_ = std::move(next);
}

Response BlobUpload::patch(std::uint64_t claimed_start, std::string_view bytes, const SendProgress& on_sent) {
    std::size_t sent = 0;
    Request request{.method = "PATCH",
                    .url = location_,
                    .source = [&](char* buffer, std::size_t capacity) {
                        const std::size_t n = std::min(capacity, bytes.size() - sent);
                        std::copy_n(bytes.data() + sent, n, buffer);
                        sent += n;
                        if (on_sent) on_sent(claimed_start + sent);
                        return n;
                    },
                    .source_size = bytes.size(),
                    .rewind_source = [&] {
                        sent = 0;
                        return true;
                    }};
    //! [patch_chunk]
    // Inclusive, without the "bytes " of RFC 9110: the distribution spec's own form. An empty
    // chunk has no range to claim.
    if (!bytes.empty())
        request.headers.add("Content-Range", std::to_string(claimed_start) + "-" +
                                                 std::to_string(claimed_start + bytes.size() - 1));
    // Registry 2.8.2 answers anything but octet-stream (text/plain, say) with 500.
    request.headers.add("Content-Type", "application/octet-stream");
    Response response = client_->http().perform(request);
    if (response.status == 202) follow(request, response, offset_ + bytes.size());
    //! [patch_chunk]
    return response;
}

void BlobUpload::send_chunk(std::string_view bytes, const SendProgress& on_sent) {
    const std::uint64_t start = offset_;
    const std::string url = location_;
    const Response response = patch(start, bytes, on_sent);
    if (response.status != 202) throw RegistryError(Request{.method = "PATCH", .url = url}, response);
    if (offset_ != start + bytes.size())
        throw std::runtime_error("PATCH " + url + ": the registry holds " + std::to_string(offset_) +
                                 " bytes after this chunk, expected " + std::to_string(start + bytes.size()));
}

void BlobUpload::refresh() {
    const Request request{.method = "GET", .url = location_};
    const Response response = perform_expecting(client_->http(), request, {204});
    follow(request, response, offset_);
}

void BlobUpload::cancel() {
    const Request request{.method = "DELETE", .url = location_};
    perform_expecting(client_->http(), request, {204});
}

std::string BlobUpload::finish(const Digest& digest) {
    const Request request{.method = "PUT",
                          .url = with_digest(location_, digest)};
    const Response response = perform_expecting(client_->http(), request, {201});
    if (const auto stored = response.headers.get("Docker-Content-Digest"); stored && *stored != digest.str())
        throw DigestMismatch("PUT " + request.url + ": the registry stored " + *stored, digest, Digest::parse(*stored));
    return client_->absolute(response.headers.get("Location").value_or(
        client_->url(repository_, "blobs/" + digest.str())));
}

std::optional<nlohmann::json> upload_state_of(std::string_view location) {
    const auto at = location.find("_state=");
    if (at == std::string_view::npos) return std::nullopt;
    const auto end = location.find('&', at);
    std::string encoded = percent_decoded(location.substr(at + 7, end == std::string_view::npos ? end : end - at - 7));
    // URL-safe base64 → the standard alphabet OpenSSL decodes.
    std::replace(encoded.begin(), encoded.end(), '-', '+');
    std::replace(encoded.begin(), encoded.end(), '_', '/');
    while (encoded.size() % 4 != 0) encoded += '=';
    std::vector<unsigned char> raw(encoded.size() / 4 * 3 + 1);
    const int length = EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(encoded.data()),
                                       static_cast<int>(encoded.size()));
    const auto padding = static_cast<int>(encoded.size() - encoded.find_last_not_of('=') - 1);
    constexpr int hmac_size = 32;
    if (length < 0 || length - padding <= hmac_size) return std::nullopt;
    auto state = nlohmann::json::parse(raw.begin() + hmac_size, raw.begin() + (length - padding), nullptr, false);
    if (!state.is_object()) return std::nullopt;
    return state;
}

}  // namespace wbclient
