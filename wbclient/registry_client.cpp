#include "wbclient/registry_client.hpp"

#include "wbclient/reference.hpp"
#include "wbclient/text.hpp"
#include "wbclient/upload_location.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

namespace wbclient {
namespace {

std::string string_field(const nlohmann::json& object, const char* name) {
    const auto field = object.find(name);
    return field != object.end() && field->is_string() ? field->get<std::string>() : "";
}

}  // namespace

RegistryError::Failure RegistryError::describe(const Request& request, const Response& response) {
    std::string code;
    std::string text = request.method + " " + request.url + ": " +
                       std::to_string(response.status) +
                       (response.reason.empty() ? "" : " " + response.reason);
    // Registries explain errors as {"errors":[{"code","message","detail"}]}.
    const auto json = nlohmann::json::parse(response.body, nullptr, false);
    if (json.is_object() && json.contains("errors") && json["errors"].is_array()) {
        for (const auto& error : json["errors"]) {
            if (!error.is_object()) continue;
            const std::string this_code = string_field(error, "code");
            if (code.empty()) code = this_code;
            text += ", " + this_code;
            if (const std::string message = string_field(error, "message"); !message.empty())
                text += " (" + message + ")";
        }
    } else if (!response.body.empty() && response.body.size() < 200 &&
               response.body.find('\n') == response.body.size() - 1) {
        text += ": " + response.body.substr(0, response.body.size() - 1);
    }
    // The body is the server's: never let it break the one-line promise.
    return {printable(text), code};
}

namespace {

Response expect(HttpClient& http, const Request& request, std::initializer_list<long> wanted,
                const BodySink& sink = {}) {
    Response response = http.perform(request, sink);
    for (const long status : wanted)
        if (response.status == status) return response;
    throw RegistryError(request, response);
}

}  // namespace

RegistryError::RegistryError(const Request& request, const Response& response)
    : RegistryError(response.status, describe(request, response)) {}

RegistryError::RegistryError(long status, Failure failure)
    : std::runtime_error(std::move(failure.message)),
      status_(status),
      code_(std::move(failure.code)) {}

RegistryClient::RegistryClient(std::string_view registry)
    : base_url_(registry_base_url(registry)) {
    observe_from_environment(http_);
}

RegistryClient::RegistryClient(std::string base_url, HttpClient http)
    : base_url_(std::move(base_url)), http_(std::move(http)) {}

RegistryClient RegistryClient::sibling() const { return RegistryClient(base_url_, http_.sibling()); }

std::string RegistryClient::url(std::string_view repository, std::string_view rest) const {
    return base_url_ + "/v2/" + std::string(repository) + "/" + std::string(rest);
}

std::string RegistryClient::absolute(std::string_view location) const {
    return resolve_upload_location(base_url_, location);
}

Response RegistryClient::ping() {
    return expect(http_, Request{.method = "GET", .url = base_url_ + "/v2/"}, {200});
}

FetchedManifest RegistryClient::get_manifest(std::string_view repository,
                                             std::string_view reference) {
    Request request{.method = "GET",
                    .url = url(repository, "manifests/" + std::string(reference))};
    request.headers.add("Accept", accept_all_manifests());
    Response response = expect(http_, request, {200});

    const Digest actual = digest_of(response.body);
    // Trust nothing we did not hash: a digest reference must match; a tag's answer must
    // match what the registry itself claims.
    std::optional<Digest> expected;
    if (reference.starts_with("sha256:")) expected = Digest::parse(reference);
    else if (auto header = response.headers.get("Docker-Content-Digest")) expected = Digest::parse(*header);
    if (expected && *expected != actual)
        throw std::runtime_error("manifest " + std::string(repository) + ":" +
                                 std::string(reference) + " has digest " + actual.str() +
                                 ", expected " + expected->str());

    const std::string content_type = response.headers.get("Content-Type").value_or("");
    Manifest parsed = Manifest::parse(response.body, content_type);
    return FetchedManifest{.bytes = std::move(response.body),
                           .media_type = parsed.media_type,
                           .digest = actual,
                           .parsed = std::move(parsed)};
}

Digest RegistryClient::put_manifest(std::string_view repository, std::string_view reference,
                                    std::string_view media_type, const std::string& bytes) {
    Request request{.method = "PUT",
                    .url = url(repository, "manifests/" + std::string(reference)),
                    .body = bytes};
    request.headers.add("Content-Type", std::string(media_type));
    const Response response = expect(http_, request, {201});
    const Digest ours = digest_of(bytes);
    const auto theirs = response.headers.get("Docker-Content-Digest");
    if (theirs && Digest::parse(*theirs) != ours)
        throw std::runtime_error("registry stored manifest as " + *theirs + ", we sent " +
                                 ours.str());
    return ours;
}

std::optional<std::uint64_t> RegistryClient::blob_size(std::string_view repository,
                                                       const Digest& digest) {
    const Request request{.method = "HEAD", .url = url(repository, "blobs/" + digest.str())};
    const Response response = expect(http_, request, {200, 404});
    if (response.status == 404) return std::nullopt;
    const auto length = response.headers.get("Content-Length");
    if (!length) throw std::runtime_error("HEAD " + request.url + ": no Content-Length");
    return std::stoull(*length);
}

void RegistryClient::fetch_blob(std::string_view repository, const Descriptor& blob,
                                const BodySink& sink) {
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
    expect(http_, Request{.method = "GET", .url = url(repository, "blobs/" + blob.digest.str())},
           {200}, hashing_sink);
    if (received != blob.size)
        throw std::runtime_error("blob " + blob.digest.str() + " ended after " +
                                 std::to_string(received) + " of " + std::to_string(blob.size) +
                                 " bytes");
    if (const Digest actual = hash.finish(); actual != blob.digest)
        throw std::runtime_error("blob " + blob.digest.str() + " arrived with digest " +
                                 actual.str());
}

std::string RegistryClient::push_blob(std::string_view repository, const Digest& digest,
                                      std::uint64_t size, const BodySource& source,
                                      const std::function<bool()>& rewind_source) {
    const Response session = expect(
        http_, Request{.method = "POST", .url = url(repository, "blobs/uploads/")}, {202});
    const auto location = session.headers.get("Location");
    if (!location) throw std::runtime_error("upload session without a Location header");

    // The Location carries the session's state; append the digest to its query.
    std::string put_url = absolute(*location);
    put_url += (put_url.find('?') == std::string::npos ? "?" : "&");
    put_url += "digest=" + digest.str();
    Request put{.method = "PUT",
                .url = put_url,
                .source = source,
                .source_size = size,
                .rewind_source = rewind_source};
    put.headers.add("Content-Type", "application/octet-stream");
    const Response stored = expect(http_, put, {201});
    return absolute(stored.headers.get("Location").value_or(url(repository, "blobs/" + digest.str())));
}

std::string RegistryClient::push_blob(std::string_view repository, const std::string& bytes) {
    std::size_t offset = 0;
    return push_blob(
        repository, digest_of(bytes), bytes.size(),
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

std::string RegistryClient::push_blob(std::string_view repository, const Descriptor& blob,
                                      const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + file.string());
    return push_blob(
        repository, blob.digest, blob.size,
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

}  // namespace wbclient
