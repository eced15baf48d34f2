// Chunked and resumable blob uploads: one session, PATCH after PATCH, each following the newest
// Location; asked where it stands after an interruption, and continued from there.
#pragma once

#include "wbclient/digest.hpp"
#include "wbclient/http.hpp"
#include "wbclient/registry_client.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>

namespace wbclient {

/// Told how far a chunk's bytes have gone out: the offset in the blob reached so far.
using SendProgress = std::function<void(std::uint64_t offset)>;

/// One upload session on a registry (OCI distribution spec, "pushing a blob in chunks").
///
/// Every answer carries a new `Location`, and only the newest is valid: registry 2.8.2 signs
/// the offset into the URL's `_state`, so an older Location is refused with 404
/// BLOB_UPLOAD_INVALID. The session keeps the newest one and the bytes acknowledged so far.
class BlobUpload {
public:
    /// POST /v2/<repository>/blobs/uploads/ → 202 with a Location and `Range: 0-0`.
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
    /// PUT <Location>&digest=<digest> with no body: the registry hashes what it holds and stores
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

/// What a client must remember to resume an upload after it was killed: the session's newest
/// Location, what the registry had acknowledged, and which file, as it was, is being sent.
struct UploadCheckpoint {
    std::string registry;    ///< host:port, as given on the command line
    std::string repository;
    std::string location;    ///< the newest Location
    std::uint64_t acknowledged = 0;  ///< bytes the registry acknowledged
    std::filesystem::path file;      ///< absolute
    std::uint64_t file_size = 0;
    std::int64_t file_modified = 0;  ///< last write time, in the file clock's ticks
    std::uint64_t chunk_size = 0;

    /// Writes the checkpoint atomically: a temporary file beside `state_file`, flushed to disk,
    /// then renamed over it. A crash leaves either the old checkpoint or the new one, whole.
    void save(const std::filesystem::path& state_file) const;
    /// Reads a checkpoint; throws std::runtime_error with a one-line reason if it is missing,
    /// unreadable or not one.
    static UploadCheckpoint load(const std::filesystem::path& state_file);
    /// The checkpoint of an upload about to begin: no Location yet, nothing acknowledged. Throws
    /// std::runtime_error with a one-line reason if `file` is missing or not a regular file.
    static UploadCheckpoint begin(const std::filesystem::path& file, std::string registry,
                                  std::string repository, std::uint64_t chunk_size);
    /// Opens the file for reading. Throws std::runtime_error unless it still has the size and
    /// modification time it had when the upload began: resuming with other bytes would build a
    /// blob out of two different files.
    std::ifstream open_file() const;
};

/// Picks up the upload `checkpoint` describes: BlobUpload::resume with its Location. A refusal
/// becomes a std::runtime_error that says, in one line, what it means: BLOB_UPLOAD_INVALID that
/// the registry holds other bytes than the Location's _state says (a chunk was in flight when
/// the client stopped) or that its http.secret changed; BLOB_UPLOAD_UNKNOWN that the session
/// was cancelled, finished or purged. Either way the session is lost: start a new upload.
BlobUpload resume_upload(RegistryClient& client, const UploadCheckpoint& checkpoint);

/// How send_file_in_chunks goes about it.
struct ChunkPlan {
    std::uint64_t chunk_size = 1024 * 1024;
    /// Stop after this many chunks (a simulated interruption); 0 sends everything.
    std::uint64_t max_chunks = 0;
    /// Bytes per second, paced between chunks; 0 sends as fast as the registry takes them.
    std::uint64_t limit_rate = 0;
};

/// Told after each chunk the registry acknowledged: where it began and how long it was.
using ChunkObserver =
    std::function<void(const BlobUpload& upload, std::uint64_t start, std::uint64_t size)>;

/// Sends bytes [upload.offset(), file_size) of `file`, one PATCH per chunk. Each byte is read
/// once and fed to `hash` as it is read, so on entry `hash` must cover [0, upload.offset())
/// and on return it covers everything acknowledged. Returns true once the whole file is sent,
/// false if it stopped after plan.max_chunks. A chunk is held in memory while it is sent, so
/// libcurl can send it again on a fresh connection without reading the file twice.
bool send_file_in_chunks(BlobUpload& upload, std::istream& file, std::uint64_t file_size,
                         Sha256& hash, const ChunkPlan& plan, const ChunkObserver& on_chunk = {},
                         const SendProgress& on_sent = {});

/// Feeds the first `size` bytes of `file` to `hash`, reading locally: how a resumed upload
/// gets back the digest of what an earlier run sent, without sending it again.
void hash_prefix(std::istream& file, std::uint64_t size, Sha256& hash);

/// Parses a byte count as people type it: "1048576", "512K", "1M", "2G" (powers of 1024; an
/// optional "iB" or "B" after the letter). Throws std::invalid_argument with a one-line
/// reason for anything else, or if it does not fit in 64 bits.
std::uint64_t parse_byte_count(std::string_view text);

}  // namespace wbclient
