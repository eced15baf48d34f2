#include "wbclient/image/layer_builder.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace wbclient {
namespace fs = std::filesystem;

namespace {

struct ArchiveFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

void check(archive* a, int status, const char* what) {
    if (status < ARCHIVE_OK) {
        const char* reason = archive_error_string(a);
        throw std::runtime_error(std::string("libarchive: ") + what + ": " +
                                 (reason ? reason : "unknown error"));
    }
}

// The gzip stage: libarchive's "raw" format with the gzip filter compresses one stream.
// Its output is hashed (the blob digest) and written to the layer file.
struct GzipSink {
    std::ofstream file;
    Sha256 hash;
    std::uint64_t size = 0;
    ArchivePtr writer{archive_write_new()};

    static la_ssize_t write(archive*, void* self, const void* data, size_t length) {
        auto& sink = *static_cast<GzipSink*>(self);
        sink.hash.update(data, length);
        sink.size += length;
        sink.file.write(static_cast<const char*>(data), static_cast<std::streamsize>(length));
        return sink.file ? static_cast<la_ssize_t>(length) : -1;
    }
};

// The tar stage: its output is hashed (the diff_id) and fed into the gzip stage.
struct TarSink {
    GzipSink* gzip;
    Sha256 hash;

    static la_ssize_t write(archive*, void* self, const void* data, size_t length) {
        auto& sink = *static_cast<TarSink*>(self);
        sink.hash.update(data, length);
        const la_ssize_t written = archive_write_data(sink.gzip->writer.get(), data, length);
        return written == static_cast<la_ssize_t>(length) ? written : -1;
    }
};

// A ".." component would climb out of the layer; ".wh..wh..opq" only looks like one.
bool names_parent(const std::string& path) {
    return path == ".." || path.starts_with("../") || path.ends_with("/..") ||
           path.find("/../") != std::string::npos;
}

}  // namespace

void LayerBuilder::add(Entry entry) {
    while (entry.path.starts_with("/")) entry.path.erase(0, 1);
    if (entry.path.empty() || names_parent(entry.path))
        throw std::invalid_argument("layer path '" + entry.path + "' must be relative and stay inside the layer");
    entries_.push_back(std::move(entry));
}

void LayerBuilder::add_directory(std::string path, unsigned mode) {
    add({std::move(path), Kind::directory, mode, {}, {}});
}
void LayerBuilder::add_file(std::string path, std::string content, unsigned mode) {
    add({std::move(path), Kind::file, mode, std::move(content), {}});
}
void LayerBuilder::add_file_from(std::string path, fs::path source, unsigned mode) {
    if (!fs::is_regular_file(source))
        throw std::runtime_error("cannot add " + source.string() + " to a layer: not a regular file");
    add({std::move(path), Kind::file, mode, {}, std::move(source)});
}
void LayerBuilder::add_symlink(std::string path, std::string target) {
    add({std::move(path), Kind::symlink, 0777, std::move(target), {}});
}

void LayerBuilder::add_hard_link(std::string path, std::string target) {
    while (target.starts_with("/")) target.erase(0, 1);
    if (target.empty() || names_parent(target))
        throw std::invalid_argument("hard link target '" + target + "' must be relative and stay inside the image");
    add({std::move(path), Kind::hard_link, 0644, std::move(target), {}});
}
void LayerBuilder::add_whiteout(std::string path) {
    while (path.ends_with("/")) path.pop_back();
    const std::size_t slash = path.rfind('/');
    const std::size_t name = slash == std::string::npos ? 0 : slash + 1;
    if (path.size() == name) throw std::invalid_argument("a whiteout needs a name to delete");
    add({path.insert(name, ".wh."), Kind::file, 0644, {}, {}});
}
void LayerBuilder::add_opaque_marker(std::string folder) {
    while (folder.ends_with("/")) folder.pop_back();
    add({folder.empty() ? ".wh..wh..opq" : folder + "/.wh..wh..opq", Kind::file, 0644, {}, {}});
}

void LayerBuilder::set_compression_level(int level) {
    if (level < 0 || level > 9)
        throw std::invalid_argument("compression level " + std::to_string(level) + " is not 0 to 9");
    compression_level_ = level;
}

BuiltLayer LayerBuilder::write(const fs::path& output, std::string_view media_type) const {
    std::vector<const Entry*> sorted;
    for (const auto& entry : entries_) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(),
              [](const Entry* a, const Entry* b) { return a->path < b->path; });
    for (const Entry* link : sorted)
        if (link->kind == Kind::hard_link)
            for (const Entry* entry : sorted)
                if (entry->path == link->content && entry->path > link->path)
                    throw std::invalid_argument("hard link " + link->path + " sorts before its target " +
                                                link->content + "; a tar names the file first");

    GzipSink gzip;
    gzip.file.open(output, std::ios::binary | std::ios::trunc);
    if (!gzip.file) throw std::runtime_error("cannot create " + output.string());
    archive* gz = gzip.writer.get();
    check(gz, archive_write_set_format_raw(gz), "raw format");
    check(gz, archive_write_add_filter_gzip(gz), "gzip filter");
    // No timestamp in the gzip header: the same tar always gives the same bytes.
    check(gz, archive_write_set_filter_option(gz, "gzip", "timestamp", nullptr), "gzip option");
    const std::string level = std::to_string(compression_level_);
    check(gz, archive_write_set_filter_option(gz, "gzip", "compression-level", level.c_str()),
          "gzip compression level");
    check(gz, archive_write_set_bytes_in_last_block(gz, 1), "block padding");
    check(gz, archive_write_open(gz, &gzip, nullptr, &GzipSink::write, nullptr), "open gzip");
    {
        std::unique_ptr<archive_entry, EntryFree> raw(archive_entry_new());
        archive_entry_set_filetype(raw.get(), AE_IFREG);
        archive_entry_set_pathname(raw.get(), "layer.tar");
        check(gz, archive_write_header(gz, raw.get()), "gzip stream header");
    }

    TarSink tar_sink{&gzip, {}};
    ArchivePtr tar(archive_write_new());
    check(tar.get(), archive_write_set_format_pax_restricted(tar.get()), "tar format");
    check(tar.get(), archive_write_open(tar.get(), &tar_sink, nullptr, &TarSink::write, nullptr),
          "open tar");
    for (const Entry* entry : sorted) {
        std::unique_ptr<archive_entry, EntryFree> header(archive_entry_new());
        archive_entry_set_pathname(header.get(), entry->path.c_str());
        archive_entry_set_uid(header.get(), 0);
        archive_entry_set_gid(header.get(), 0);
        archive_entry_set_mtime(header.get(), 0, 0);
        archive_entry_set_perm(header.get(), entry->mode);
        std::uint64_t size = 0;
        switch (entry->kind) {
            case Kind::directory: archive_entry_set_filetype(header.get(), AE_IFDIR); break;
            case Kind::symlink:
                archive_entry_set_filetype(header.get(), AE_IFLNK);
                archive_entry_set_symlink(header.get(), entry->content.c_str());
                break;
            case Kind::hard_link:
                archive_entry_set_filetype(header.get(), AE_IFREG);
                archive_entry_set_hardlink(header.get(), entry->content.c_str());
                break;
            case Kind::file:
                archive_entry_set_filetype(header.get(), AE_IFREG);
                size = entry->source.empty() ? entry->content.size() : fs::file_size(entry->source);
                break;
        }
        archive_entry_set_size(header.get(), static_cast<la_int64_t>(size));
        check(tar.get(), archive_write_header(tar.get(), header.get()), entry->path.c_str());
        if (entry->kind != Kind::file) continue;
        if (entry->source.empty()) {
            if (archive_write_data(tar.get(), entry->content.data(), entry->content.size()) < 0)
                check(tar.get(), ARCHIVE_FATAL, entry->path.c_str());
            continue;
        }
        std::ifstream in(entry->source, std::ios::binary);
        std::array<char, 1 << 16> buffer{};
        std::uint64_t copied = 0;
        while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
            const auto n = static_cast<std::size_t>(in.gcount());
            if (archive_write_data(tar.get(), buffer.data(), n) < 0)
                check(tar.get(), ARCHIVE_FATAL, entry->path.c_str());
            copied += n;
        }
        if (copied != size)
            throw std::runtime_error("cannot read " + entry->source.string() + " completely");
    }
    check(tar.get(), archive_write_close(tar.get()), "close tar");
    check(gz, archive_write_close(gz), "close gzip");
    gzip.file.close();
    if (!gzip.file) throw std::runtime_error("cannot write " + output.string());

    return BuiltLayer{.file = output,
                      .blob = Descriptor{.media_type = std::string(media_type),
                                         .digest = gzip.hash.finish(),
                                         .size = gzip.size},
                      .diff_id = tar_sink.hash.finish()};
}

}  // namespace wbclient
