// A connection to one registry (its base URL and an HTTP client), and the whole distribution
// API behind one include. Each endpoint has one function in the file of its resource
// (base, blobs, uploads, manifests, referrers, tags, catalog; debug_server for the debug address); the
// members below are shorthands for the ones every chapter uses, so `registry.get_manifest(...)`
// reads like `crane`'s calls.
#pragma once

#include "wbclient/model/digest.hpp"
#include "wbclient/distribution/base.hpp"
#include "wbclient/distribution/blobs.hpp"
#include "wbclient/distribution/catalog.hpp"
#include "wbclient/distribution/debug_server.hpp"
#include "wbclient/distribution/manifests.hpp"
#include "wbclient/distribution/referrers.hpp"
#include "wbclient/distribution/registry_error.hpp"
#include "wbclient/distribution/tags.hpp"
#include "wbclient/distribution/upload_location.hpp"
#include "wbclient/distribution/uploads.hpp"
#include "wbclient/http/http.hpp"
#include "wbclient/model/manifest.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace wbclient {

class RegistryClient {
public:
    /// `registry` is "host:port" or "http(s)://host:port"; `options` set up its HttpClient
    /// (observers, stall timeout, TLS, user agent, authorizer).
    explicit RegistryClient(std::string_view registry, const ClientOptions& options = {});

    const std::string& base_url() const { return base_url_; }
    HttpClient& http() { return http_; }

    /// Another client for the same registry with its own connection, configured like this
    /// one (HttpClient::sibling): one per worker thread when blobs travel in parallel.
    RegistryClient sibling() const;

    /// Builds `<base>/v2/<repository>/<rest>`.
    std::string url(std::string_view repository, std::string_view rest) const;

    /// An upload session's Location made absolute by the one same-host rule
    /// (resolve_upload_location); throws LocationRefused for one on another host.
    std::string absolute(std::string_view location) const;

    /// Shorthands: wbclient::ping, get_manifest, put_manifest, blob_size, fetch_blob, push_blob.
    Response ping() { return wbclient::ping(*this); }
    FetchedManifest get_manifest(std::string_view repository, std::string_view reference) {
        return wbclient::get_manifest(*this, repository, reference);
    }
    Digest put_manifest(std::string_view repository, std::string_view reference, std::string_view media_type,
                        const std::string& bytes) {
        return wbclient::put_manifest(*this, repository, reference, media_type, bytes);
    }
    std::optional<std::uint64_t> blob_size(std::string_view repository, const Digest& digest) {
        return wbclient::blob_size(*this, repository, digest);
    }
    void fetch_blob(std::string_view repository, const Descriptor& blob, const BodySink& sink) {
        wbclient::fetch_blob(*this, repository, blob, sink);
    }
    std::string push_blob(std::string_view repository, const Digest& digest, std::uint64_t size,
                          const BodySource& source, const std::function<bool()>& rewind_source = {}) {
        return wbclient::push_blob(*this, repository, digest, size, source, rewind_source);
    }
    std::string push_blob(std::string_view repository, const std::string& bytes) {
        return wbclient::push_blob(*this, repository, bytes);
    }
    std::string push_blob(std::string_view repository, const Descriptor& blob, const std::filesystem::path& file) {
        return wbclient::push_blob(*this, repository, blob, file);
    }

private:
    RegistryClient(std::string base_url, HttpClient http);

    std::string base_url_;
    HttpClient http_;
};

}  // namespace wbclient
