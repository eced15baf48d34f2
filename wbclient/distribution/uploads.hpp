// Blob uploads (OCI distribution spec, "pushing blobs"): every request on
// /v2/<name>/blobs/uploads/ — open a session (POST, also as a cross-repository mount), send it
// in one PUT or chunk by chunk (PATCH), ask where it stands (GET), finish it (PUT ?digest=) or
// cancel it (DELETE). Every Location an answer carries goes through resolve_upload_location.
#pragma once

#include "wbclient/model/digest.hpp"
#include "wbclient/http/http.hpp"
#include "wbclient/model/manifest.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace wbclient {

class RegistryClient;

/// Uploads a blob in one streamed PUT: POST to open a session, then PUT ?digest= to the
/// newest Location with `size` bytes from `source`. Returns the blob's URL.
std::string push_blob(RegistryClient& client, std::string_view repository, const Digest& digest,
                      std::uint64_t size, const BodySource& source, const std::function<bool()>& rewind_source = {});
/// The same from bytes in memory (a config, say).
std::string push_blob(RegistryClient& client, std::string_view repository, const std::string& bytes);
/// The same streamed from a file on disk, e.g. a layer just built.
std::string push_blob(RegistryClient& client, std::string_view repository, const Descriptor& blob,
                      const std::filesystem::path& file);

/// What a mount request got: the blob itself, or an ordinary upload session instead.
struct MountResult {
    /// 201 Created: the registry linked the blob into the repository; no bytes needed.
    bool mounted = false;
    /// 202 Accepted: the registry could not mount (it does not have the blob in `from`, or
    /// cannot read `from`) and opened an upload session here, absolute. The caller must
    /// finish it with upload_to_session() or give it back with cancel_upload().
    std::string upload_location;
};

/// POST `/v2/<to>/blobs/uploads/?mount=<digest>&from=<from>`: asks the registry to link a blob
/// it already stores for `from` into `to`. Throws RegistryError on anything but 201 or 202.
MountResult request_mount(RegistryClient& registry, std::string_view to_repository,
                          const Digest& digest, std::string_view from_repository);

/// PUT `<location>&digest=<digest>` with the blob's bytes from `file`: finishes an upload
/// session opened earlier (by a mount that answered 202, say) in one request.
void upload_to_session(RegistryClient& registry, const std::string& location,
                       const Descriptor& blob, const std::filesystem::path& file);
/// The same with the bytes from `source` (a download in progress, say), which must yield
/// exactly blob.size bytes; it is sent once, never rewound.
void upload_to_session(RegistryClient& registry, const std::string& location,
                       const Descriptor& blob, const BodySource& source);

/// DELETE `<location>`: the registry forgets an upload session (204) and what it received.
void cancel_upload(RegistryClient& registry, const std::string& location);

/// Told how far a chunk's bytes have gone out: the offset in the blob reached so far.
using SendProgress = std::function<void(std::uint64_t offset)>;

/// One upload session on a registry (OCI distribution spec, "pushing a blob in chunks").
///
/// Every answer carries a new `Location`, and only the newest is valid: registry 2.8.2 signs
/// the offset into the URL's `_state`, so an older Location is refused with 404
/// BLOB_UPLOAD_INVALID. The session keeps the newest one and the bytes acknowledged so far.
class BlobUpload {
public:
    /// POST `/v2/<repository>/blobs/uploads/` → 202 with a Location and `Range: 0-0`.
    static BlobUpload open(RegistryClient& client, std::string repository);
    /// Picks up a session from its newest Location (saved by an earlier run) by asking where it
    /// stands: GET → 204 with `Range`. `acknowledged` is what the caller believes the registry
    /// holds; it only settles the one ambiguous answer, `Range: 0-0` (see offset()). Throws
    /// RegistryError for a Location the registry refuses: 404 BLOB_UPLOAD_INVALID (stale or
    /// forged `_state`) or 404 BLOB_UPLOAD_UNKNOWN (cancelled, finished or purged).
    static BlobUpload resume(RegistryClient& client, std::string repository, std::string location,
                             std::uint64_t acknowledged);

    const std::string& repository() const { return repository_; }
    /// The newest Location, absolute: the only URL the registry accepts for the next request.
    const std::string& location() const { return location_; }
    /// Bytes the registry says it holds: the end of its `Range: 0-<end>` plus one. 2.8.2 answers
    /// `0-0` for both 0 and 1 byte held; that is read as the count the caller expected.
    std::uint64_t offset() const { return offset_; }

    /// PATCH `bytes` with `Content-Range: <start>-<end>` claiming they begin at `claimed_start`.
    /// On 202 the session follows the new Location and Range; any other answer is returned
    /// unchanged and the session stays where it was. The spec answers a chunk that does not
    /// begin at offset() with 416; registry 2.8.2 ignores Content-Range and appends.
    Response patch(std::uint64_t claimed_start, std::string_view bytes,
                   const SendProgress& on_sent = {});
    /// PATCH the next chunk, which begins at offset(). Throws RegistryError unless 202, and
    /// std::runtime_error unless the registry now holds exactly offset() + bytes.size() bytes.
    void send_chunk(std::string_view bytes, const SendProgress& on_sent = {});
    /// GET the session: 204 with the newest Location and Range. Throws RegistryError otherwise.
    void refresh();
    /// DELETE the session: 204, and the registry drops what it received. The session is over;
    /// its Location now answers 404 BLOB_UPLOAD_UNKNOWN.
    void cancel();
    /// PUT `<Location>&digest=<digest>` with no body: the registry hashes what it holds and stores
    /// the blob if the digests agree (201), or answers 400 DIGEST_INVALID and discards it all.
    /// Returns the blob's URL.
    std::string finish(const Digest& digest);

private:
    BlobUpload(RegistryClient& client, std::string repository)
        : client_(&client), repository_(std::move(repository)) {}
    /// Takes the newest Location and Range from an answer to `request`.
    void follow(const Request& request, const Response& response, std::uint64_t expected);

    RegistryClient* client_;
    std::string repository_;
    std::string location_;
    std::uint64_t offset_ = 0;
};

/// What registry 2.8.2 packs into an upload Location's `_state` query parameter: URL-safe
/// base64 of a 32-byte HMAC (keyed by the registry's http.secret) followed by JSON such as
/// {"Name":"chunked","UUID":"...","Offset":1048576,"StartedAt":"..."}. Nothing if the
/// Location has no such parameter or it does not decode that way; other registries differ.
std::optional<nlohmann::json> upload_state_of(std::string_view location);

}  // namespace wbclient
