#include "wbclient/image/oci_layout.hpp"
#include "wbclient/model/files.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>
#include <utility>

namespace wbclient {
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace

namespace {

// Pulling never overwrites: checked before anything is created.
fs::path new_folder(fs::path destination) {
    if (fs::exists(fs::symlink_status(destination)))
        throw std::runtime_error(destination.string() + " already exists; pull into a new folder");
    if (destination.has_parent_path()) fs::create_directories(destination.parent_path());
    return destination;
}

}  // namespace

OciLayoutWriter::OciLayoutWriter(fs::path destination) : staged_(new_folder(std::move(destination))) {
    fs::create_directories(staged_.path() / "blobs" / "sha256");
}

fs::path OciLayoutWriter::blob_path(const Digest& digest) const {
    return layout_blob_path(staged_.path(), digest);
}

bool OciLayoutWriter::has_blob(const Digest& digest) const {
    return fs::exists(blob_path(digest));
}

namespace {

// A blob's file being written: plain write(2) of whatever the producer hands over (a network
// read, up to 512 KiB: a stream buffer in between would only add a copy).
class BlobFile {
public:
    BlobFile(fs::path path, std::uint64_t expected_size) : path_(std::move(path)) {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) throw std::runtime_error("cannot create " + path_.string() + ": " + std::strerror(errno));
        // The descriptor says how big the blob is: reserving its blocks at once spares the
        // file system an allocation per page written (ext4: about a quarter of the write cost,
        // measured). KEEP_SIZE: the file still grows only as bytes arrive, so its size keeps
        // telling how far the download got. Only a hint: where fallocate is unsupported, the
        // writes allocate as usual (never glibc's posix_fallocate, which would write zeros).
        // The size comes from a manifest, so from the registry: never reserve more than half the
        // free space, or a lying descriptor could fill the disk before its first byte arrives.
        std::error_code no_space_figure;
        const auto space = fs::space(path_.parent_path(), no_space_figure);
        if (expected_size > 0 && !no_space_figure && expected_size <= space.available / 2)
            (void)::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(expected_size));
    }
    ~BlobFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    BlobFile(const BlobFile&) = delete;
    BlobFile& operator=(const BlobFile&) = delete;

    void write(const char* data, std::size_t length) {
        while (length > 0) {
            const ssize_t written = ::write(fd_, data, length);
            if (written < 0 && errno == EINTR) continue;
            if (written <= 0) throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(errno));
            data += written;
            length -= static_cast<std::size_t>(written);
        }
    }
    // A short blob's unused reservation goes with its file: store_blob removes it.
    void close() {
        if (::close(std::exchange(fd_, -1)) != 0)
            throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(errno));
    }

private:
    fs::path path_;
    int fd_ = -1;
};

// Streams a blob into `partial`, then renames it to `final_path` once it checked out: its
// size always, its digest too when `hash` (else the producer vouches for it).
void store_blob(const fs::path& final_path, const Descriptor& blob,
                const std::function<void(const BodySink&)>& produce, bool hash) {
    fs::path partial = final_path;
    partial += ".partial";
    try {
        BlobFile out(partial, blob.size);
        std::optional<Sha256> digest;
        if (hash) digest.emplace();
        std::uint64_t size = 0;
        produce([&](const char* data, std::size_t length) {
            if (digest) digest->update(data, length);
            size += length;
            out.write(data, length);
        });
        out.close();
        // Checked here as well as by the producer: a layout never holds an unverified blob.
        if (size != blob.size) throw std::runtime_error("blob " + blob.digest.str() + " did not verify");
        if (digest)
            if (Digest actual = digest->finish(); actual != blob.digest)
                throw DigestMismatch("blob " + blob.digest.str() + " did not verify", blob.digest, std::move(actual));
    } catch (...) {
        std::error_code ignored;
        fs::remove(partial, ignored);
        throw;
    }
    fs::rename(partial, final_path);
}

}  // namespace

void OciLayoutWriter::add_blob(const Descriptor& blob,
                               const std::function<void(const BodySink&)>& produce) {
    store_blob(blob_path(blob.digest), blob, produce, /*hash=*/true);
}

void OciLayoutWriter::add_verified_blob(const Descriptor& blob,
                                        const std::function<void(const BodySink&)>& produce) {
    store_blob(blob_path(blob.digest), blob, produce, /*hash=*/false);
}

void OciLayoutWriter::add_blob(const Descriptor& blob, const std::string& bytes) {
    add_blob(blob, [&](const BodySink& sink) { sink(bytes.data(), bytes.size()); });
}

void OciLayoutWriter::commit(const Descriptor& manifest, const std::string& ref_name) {
    if (!has_blob(manifest.digest))
        throw std::logic_error("commit: the manifest blob was never added");
    nlohmann::json entry = descriptor_to_json(manifest);
    entry["annotations"] = {{"org.opencontainers.image.ref.name", ref_name}};
    const nlohmann::json index = {{"schemaVersion", 2},
                                  {"mediaType", media_type::oci_index},
                                  {"manifests", nlohmann::json::array({entry})}};
    write_file(staged_.path() / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    write_file(staged_.path() / "index.json", index.dump());
    staged_.commit();
}

std::size_t verify_oci_layout(const fs::path& layout) {
    if (!fs::exists(layout / "oci-layout"))
        throw std::runtime_error(layout.string() + " is not an OCI layout (no oci-layout file)");
    std::set<std::string> verified;
    std::function<void(const Descriptor&)> verify = [&](const Descriptor& blob) {
        if (!verified.insert(blob.digest.str()).second) return;
        const fs::path file = layout_blob_path(layout, blob.digest);
        if (!fs::exists(file)) throw std::runtime_error("layout lacks blob " + blob.digest.str());
        if (fs::file_size(file) != blob.size)
            throw std::runtime_error("blob " + blob.digest.str() + " in the layout is corrupt");
        if (Digest actual = digest_of_file(file); actual != blob.digest)
            throw DigestMismatch("blob " + blob.digest.str() + " in the layout is corrupt", blob.digest, std::move(actual));
        if (is_index_type(blob.media_type) || is_manifest_type(blob.media_type))
            for (const auto& child : Manifest::parse(read_file(file), blob.media_type).references())
                verify(child);
    };
    const Manifest index = Manifest::parse(read_file(layout / "index.json"), media_type::oci_index);
    for (const auto& manifest : index.manifests) verify(manifest);
    return verified.size();
}

}  // namespace wbclient
