#include "wbclient/transfer/chunked_upload.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace wbclient {
namespace {

// Closes a POSIX file descriptor when it goes out of scope.
struct FileDescriptor {
    int fd;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

void UploadCheckpoint::save(const fs::path& state_file) const {
    const std::string text = nlohmann::json{{"registry", registry},
                                            {"repository", repository},
                                            {"location", location},
                                            {"acknowledged", acknowledged},
                                            {"file", file.string()},
                                            {"file_size", file_size},
                                            {"file_modified", file_modified},
                                            {"chunk_size", chunk_size}}
                                 .dump(2) +
                             "\n";
    const fs::path temporary = state_file.string() + ".tmp";
    const auto fail = [&](const std::string& what) {
        const std::string reason = std::strerror(errno);
        std::error_code ignored;
        fs::remove(temporary, ignored);
        throw std::runtime_error("cannot " + what + " " + temporary.string() + ": " + reason);
    };
    {
        FileDescriptor out{::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
        if (out.fd < 0) fail("create");
        if (::write(out.fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) fail("write");
        // On disk before the rename, so that even a power cut leaves a whole checkpoint.
        if (::fsync(out.fd) != 0) fail("flush");
    }
    if (::rename(temporary.c_str(), state_file.c_str()) != 0) fail("rename");
}

UploadCheckpoint UploadCheckpoint::load(const fs::path& state_file) {
    std::ifstream in(state_file);
    if (!in) throw std::runtime_error("cannot read state file " + state_file.string() + ": " + std::strerror(errno));
    const auto json = nlohmann::json::parse(in, nullptr, false);
    try {
        if (!json.is_object()) throw std::invalid_argument("not a JSON object");
        UploadCheckpoint checkpoint{.registry = json.at("registry").get<std::string>(),
                                    .repository = json.at("repository").get<std::string>(),
                                    .location = json.at("location").get<std::string>(),
                                    .acknowledged = json.at("acknowledged").get<std::uint64_t>(),
                                    .file = json.at("file").get<std::string>(),
                                    .file_size = json.at("file_size").get<std::uint64_t>(),
                                    .file_modified = json.at("file_modified").get<std::int64_t>(),
                                    .chunk_size = json.at("chunk_size").get<std::uint64_t>()};
        if (checkpoint.chunk_size == 0) throw std::invalid_argument("chunk_size is 0");
        if (checkpoint.acknowledged > checkpoint.file_size)
            throw std::invalid_argument("acknowledged is larger than the file");
        return checkpoint;
    } catch (const std::exception& error) {
        std::string reason = error.what();
        if (const auto bracket = reason.find("] "); reason.starts_with("[json.exception"))
            reason = reason.substr(bracket + 2);  // nlohmann's "[json.exception.out_of_range.403] "
        throw std::runtime_error("state file " + state_file.string() + " is not an upload checkpoint: " + reason);
    }
}

namespace {

// Size and modification time: what tells a resumed upload that its file is still the same.
std::pair<std::uint64_t, std::int64_t> size_and_time(const fs::path& file) {
    std::error_code error;
    const auto status = fs::status(file, error);
    if (error) throw std::runtime_error("cannot read " + file.string() + ": " + error.message());
    if (!fs::is_regular_file(status)) throw std::runtime_error("cannot read " + file.string() + ": not a regular file");
    return {fs::file_size(file), fs::last_write_time(file).time_since_epoch().count()};
}

}  // namespace

UploadCheckpoint UploadCheckpoint::begin(const fs::path& file, std::string registry, std::string repository,
                                         std::uint64_t chunk_size) {
    const auto [size, modified] = size_and_time(file);
    return UploadCheckpoint{.registry = std::move(registry),
                            .repository = std::move(repository),
                            .file = fs::absolute(file),
                            .file_size = size,
                            .file_modified = modified,
                            .chunk_size = chunk_size};
}

std::ifstream UploadCheckpoint::open_file() const {
    const auto [size, modified] = size_and_time(file);
    if (size != file_size || modified != file_modified)
        throw std::runtime_error(file.string() + " changed since the upload began (" + std::to_string(file_size) +
                                 " bytes then, " + std::to_string(size) + " now); start a new upload");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + file.string() + ": " + std::strerror(errno));
    return in;
}

BlobUpload resume_upload(RegistryClient& client, const UploadCheckpoint& checkpoint) {
    try {
        return BlobUpload::resume(client, checkpoint.repository, checkpoint.location, checkpoint.acknowledged);
    } catch (const RegistryError& refused) {
        throw std::runtime_error(
            std::string("cannot resume: ") + refused.what() +
            (refused.code() == "BLOB_UPLOAD_INVALID"
                 ? " (its _state no longer matches: a chunk was in flight when the upload stopped, or the "
                   "registry's http.secret changed); start a new upload"
                 : refused.code() == "BLOB_UPLOAD_UNKNOWN"
                       ? " (the upload was cancelled, finished or purged); start a new upload"
                       : ""));
    }
}

bool send_file_in_chunks(BlobUpload& upload, std::istream& file, std::uint64_t file_size, Sha256& hash,
                         const ChunkPlan& plan, const ChunkObserver& on_chunk, const SendProgress& on_sent) {
    if (plan.chunk_size == 0) throw std::invalid_argument("chunk size must be at least 1 byte");
    if (!file.seekg(static_cast<std::streamoff>(upload.offset())))
        throw std::runtime_error("cannot seek to byte " + std::to_string(upload.offset()) + " of the file");
    const auto started = std::chrono::steady_clock::now();
    const std::uint64_t first = upload.offset();
    std::vector<char> chunk;
    //! [chunk_loop]
    for (std::uint64_t chunks = 0; upload.offset() < file_size; ++chunks) {
        if (plan.max_chunks != 0 && chunks == plan.max_chunks) return false;
        if (plan.limit_rate != 0 && chunks > 0) {
            // Pace the chunks: the next one leaves when the average falls to the limit.
            const double due = static_cast<double>(upload.offset() - first) / static_cast<double>(plan.limit_rate);
            std::this_thread::sleep_until(started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                        std::chrono::duration<double>(due)));
        }
        const std::uint64_t start = upload.offset();
        chunk.resize(static_cast<std::size_t>(std::min(plan.chunk_size, file_size - start)));
        file.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        if (static_cast<std::size_t>(file.gcount()) != chunk.size())
            throw std::runtime_error("the file ended or failed at byte " + std::to_string(start + file.gcount()) +
                                     " of " + std::to_string(file_size));
        hash.update(chunk.data(), chunk.size());
        upload.send_chunk(std::string_view(chunk.data(), chunk.size()), on_sent);
        if (on_chunk) on_chunk(upload, start, chunk.size());
    }
    //! [chunk_loop]
    return true;
}

void hash_prefix(std::istream& file, std::uint64_t size, Sha256& hash) {
    if (!file.seekg(0)) throw std::runtime_error("cannot seek to the start of the file");
    std::vector<char> buffer(1 << 16);
    for (std::uint64_t left = size; left > 0;) {
        const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(left, buffer.size()));
        if (!file.read(buffer.data(), n))
            throw std::runtime_error("the file ended or failed before byte " + std::to_string(size));
        hash.update(buffer.data(), static_cast<std::size_t>(n));
        left -= static_cast<std::uint64_t>(n);
    }
}

std::uint64_t parse_byte_count(std::string_view text) {
    std::uint64_t value = 0;
    const auto [rest, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    std::string_view unit(rest, static_cast<std::size_t>(text.data() + text.size() - rest));
    const auto invalid = [&](const std::string& why) {
        return std::invalid_argument("'" + std::string(text) + "' is not a byte count (" + why + ")");
    };
    if (error == std::errc::result_out_of_range) throw invalid("too large");
    if (error != std::errc() || rest == text.data()) throw invalid("expected digits, e.g. 1048576 or 1M");
    int shift = 0;
    if (!unit.empty()) {
        const std::string_view letters = "KMG";
        const auto position = letters.find(static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
        const std::string_view suffix = unit.substr(1);
        if (position == std::string_view::npos || !(suffix.empty() || suffix == "B" || suffix == "iB"))
            throw invalid("unknown unit '" + std::string(unit) + "'; use K, M or G");
        shift = 10 * static_cast<int>(position + 1);
    }
    if (value > (UINT64_MAX >> shift)) throw invalid("too large");
    return value << shift;
}

}  // namespace wbclient
