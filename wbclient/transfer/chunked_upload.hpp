// Chunked and resumable blob uploads of a file: PATCH after PATCH on one session (BlobUpload,
// distribution/uploads.hpp), a checkpoint saved after each, and a resume from it.
#pragma once

#include "wbclient/model/digest.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/uploads.hpp"

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
