// The registry's HTTP API (OCI Distribution Spec): ping, manifests, blobs, uploads.
#pragma once

#include "wbclient/digest.hpp"
#include "wbclient/http.hpp"
#include "wbclient/manifest.hpp"

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wbclient {

/// A registry answered with an unexpected status. The message is one line: the request,
/// the status, and the registry's own error codes when it sent a JSON error body.
class RegistryError : public std::runtime_error {
public:
    RegistryError(const Request& request, const Response& response);
    long status() const { return status_; }
    /// The first `errors[].code` of the body, e.g. "MANIFEST_UNKNOWN", or "" if none.
    const std::string& code() const { return code_; }

private:
    struct Failure {
        std::string message;
        std::string code;
    };
    static Failure describe(const Request& request, const Response& response);
    RegistryError(long status, Failure failure);
    long status_;
    std::string code_;
};

/// A manifest as the registry served it: the exact bytes, so digests stay stable.
struct FetchedManifest {
    std::string bytes;
    std::string media_type;
    Digest digest;
    Manifest parsed;
};

class RegistryClient {
public:
    /// `registry` is "host:port" or "http(s)://host:port".
    explicit RegistryClient(std::string_view registry);

    const std::string& base_url() const { return base_url_; }
    HttpClient& http() { return http_; }

    /// Another client for the same registry with its own connection, configured like this
    /// one (HttpClient::sibling): one per worker thread when blobs travel in parallel.
    RegistryClient sibling() const;

    /// GET /v2/: the registry's "are you there, and do you speak v2?".
    Response ping();

    /// GET a manifest by tag or digest, asking for all four manifest types. The bytes are
    /// checked against the digest asked for, or else against Docker-Content-Digest.
    FetchedManifest get_manifest(std::string_view repository, std::string_view reference);

    /// PUT a manifest under a tag or digest; returns the digest the registry computed, after
    /// checking it equals the digest of `bytes`.
    Digest put_manifest(std::string_view repository, std::string_view reference,
                        std::string_view media_type, const std::string& bytes);

    /// HEAD a blob: its size if the repository has it, nothing if it answers 404.
    std::optional<std::uint64_t> blob_size(std::string_view repository, const Digest& digest);

    /// GET a blob and stream it into `sink`, hashing as it flows. Throws if the size or the
    /// digest of what arrived differs from `blob`; the sink has then seen unverified bytes,
    /// so it must write somewhere temporary.
    void fetch_blob(std::string_view repository, const Descriptor& blob, const BodySink& sink);

    /// Upload a blob in one streamed PUT: POST to open a session, then PUT ?digest= to the
    /// newest Location with `size` bytes from `source`. Returns the blob's URL.
    std::string push_blob(std::string_view repository, const Digest& digest, std::uint64_t size,
                          const BodySource& source,
                          const std::function<bool()>& rewind_source = {});
    std::string push_blob(std::string_view repository, const std::string& bytes);
    /// Streams the blob from a file on disk, e.g. a layer just built.
    std::string push_blob(std::string_view repository, const Descriptor& blob,
                          const std::filesystem::path& file);

    /// Builds "<base>/v2/<repository>/<rest>".
    std::string url(std::string_view repository, std::string_view rest) const;

    /// An upload session's Location made absolute by the one same-host rule
    /// (resolve_upload_location); throws LocationRefused for one on another host.
    std::string absolute(std::string_view location) const;

private:
    RegistryClient(std::string base_url, HttpClient http);

    std::string base_url_;
    HttpClient http_;
};

}  // namespace wbclient
