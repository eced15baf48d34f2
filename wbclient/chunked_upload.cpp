#include "wbclient/chunked_upload.hpp"


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

// Closes a POSIX file descriptor when it goes out of scope.
struct FileDescriptor {
    int fd;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

BlobUpload BlobUpload::open(RegistryClient& client, std::string repository) {
    BlobUpload upload(client, std::move(repository));
    const Request request{.method = "POST", .url = client.url(upload.repository_, "blobs/uploads/")};
    const Response response = client.http().perform(request);
    if (response.status != 202) throw RegistryError(request, response);
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
    // Inclusive, without the "bytes " of RFC 9110: the distribution spec's own form. An empty
    // chunk has no range to claim.
    if (!bytes.empty())
        request.headers.add("Content-Range", std::to_string(claimed_start) + "-" +
                                                 std::to_string(claimed_start + bytes.size() - 1));
    // Registry 2.8.2 answers anything but octet-stream (text/plain, say) with 500.
    request.headers.add("Content-Type", "application/octet-stream");
    Response response = client_->http().perform(request);
    if (response.status == 202) follow(request, response, offset_ + bytes.size());
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
    const Response response = client_->http().perform(request);
    if (response.status != 204) throw RegistryError(request, response);
    follow(request, response, offset_);
}

void BlobUpload::cancel() {
    const Request request{.method = "DELETE", .url = location_};
    const Response response = client_->http().perform(request);
    if (response.status != 204) throw RegistryError(request, response);
}

std::string BlobUpload::finish(const Digest& digest) {
    const Request request{.method = "PUT",
                          .url = location_ + (location_.find('?') == std::string::npos ? "?" : "&") +
                                 "digest=" + digest.str()};
    const Response response = client_->http().perform(request);
    if (response.status != 201) throw RegistryError(request, response);
    if (const auto stored = response.headers.get("Docker-Content-Digest"); stored && *stored != digest.str())
        throw std::runtime_error("PUT " + request.url + ": the registry stored " + *stored);
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
