#include "wbclient/image/layer_reader.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>

namespace wbclient {
namespace {

struct ArchiveReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
using ReadArchive = std::unique_ptr<archive, ArchiveReadFree>;

std::string reason_of(archive* a) {
    const char* reason = archive_error_string(a);
    return reason ? reason : "unknown error";
}

// The first stage: libarchive's "raw" format behind its gzip filter turns the compressed
// bytes from `source` into one uncompressed stream, which is the tar.
struct CompressedInput {
    const BodySource* source;
    std::array<char, 1 << 16> buffer{};
    std::exception_ptr error;

    static la_ssize_t read(archive*, void* self, const void** data) {
        auto& input = *static_cast<CompressedInput*>(self);
        try {
            *data = input.buffer.data();
            return static_cast<la_ssize_t>((*input.source)(input.buffer.data(), input.buffer.size()));
        } catch (...) {
            input.error = std::current_exception();
            return ARCHIVE_FATAL;
        }
    }
};

// Every uncompressed byte passes through here exactly once, on its way to the tar reader or
// drained after it: the one place to hash the diff ID and to enforce the size limit.
struct UncompressedStream {
    archive* gunzip;
    std::uint64_t limit;
    std::uint64_t size = 0;
    Sha256 hash;
    std::array<char, 1 << 16> buffer{};
    std::exception_ptr error;

    // Returns the bytes now in `buffer` (0 at the end); throws on corruption or the limit.
    std::size_t next() {
        const la_ssize_t n = archive_read_data(gunzip, buffer.data(), buffer.size());
        if (n < 0) throw std::runtime_error("layer is not valid gzip: " + reason_of(gunzip));
        size += static_cast<std::uint64_t>(n);
        if (size > limit)
            throw std::runtime_error("layer expands beyond the limit of " + std::to_string(limit) +
                                     " uncompressed bytes; refusing to read further");
        hash.update(buffer.data(), static_cast<std::size_t>(n));
        return static_cast<std::size_t>(n);
    }

    // No skip callback: libarchive then skips file contents by reading them through here.
    static la_ssize_t read(archive*, void* self, const void** data) {
        auto& stream = *static_cast<UncompressedStream*>(self);
        try {
            *data = stream.buffer.data();
            return static_cast<la_ssize_t>(stream.next());
        } catch (...) {
            stream.error = std::current_exception();
            return ARCHIVE_FATAL;
        }
    }
};

LayerEntry to_entry(archive_entry* header) {
    LayerEntry entry;
    const char* path = archive_entry_pathname(header);
    if (!path) path = archive_entry_pathname_utf8(header);
    if (!path) throw std::runtime_error("layer has an entry whose path cannot be read");
    entry.path = path;
    entry.mode = static_cast<unsigned>(archive_entry_perm(header));
    // A hard link is stored as a header naming an earlier entry, with no content of its own.
    if (const char* target = archive_entry_hardlink(header)) {
        entry.type = LayerEntry::Type::hardlink;
        entry.link_target = target;
        return entry;
    }
    switch (archive_entry_filetype(header)) {
        case AE_IFREG:
            entry.type = LayerEntry::Type::file;
            entry.size = static_cast<std::uint64_t>(archive_entry_size(header));
            break;
        case AE_IFDIR: entry.type = LayerEntry::Type::directory; break;
        case AE_IFLNK:
            entry.type = LayerEntry::Type::symlink;
            if (const char* target = archive_entry_symlink(header)) entry.link_target = target;
            break;
        default: entry.type = LayerEntry::Type::other; break;
    }
    return entry;
}

// Rethrows what a callback stored, else reports libarchive's own reason.
[[noreturn]] void fail(archive* a, const std::exception_ptr& first, const std::exception_ptr& second,
                       const std::string& what) {
    if (first) std::rethrow_exception(first);
    if (second) std::rethrow_exception(second);
    throw std::runtime_error(what + ": " + reason_of(a));
}

}  // namespace

std::string_view to_string(LayerEntry::Type type) {
    switch (type) {
        case LayerEntry::Type::file: return "file";
        case LayerEntry::Type::directory: return "directory";
        case LayerEntry::Type::symlink: return "symlink";
        case LayerEntry::Type::hardlink: return "hardlink";
        case LayerEntry::Type::other: break;
    }
    return "other";
}

std::string describe(const LayerEntry& entry) {
    std::string mode = "?---------";
    switch (entry.type) {
        case LayerEntry::Type::file: case LayerEntry::Type::hardlink: mode[0] = '-'; break;
        case LayerEntry::Type::directory: mode[0] = 'd'; break;
        case LayerEntry::Type::symlink: mode[0] = 'l'; break;
        case LayerEntry::Type::other: break;
    }
    const char* letters = "rwxrwxrwx";
    for (int bit = 0; bit < 9; ++bit)
        if (entry.mode & (0400u >> bit)) mode[1 + bit] = letters[bit];
    // setuid, setgid and sticky replace the x of owner, group and others.
    const auto special = [&](unsigned flag, std::size_t at, char set) {
        if (entry.mode & flag) mode[at] = mode[at] == 'x' ? set : static_cast<char>(std::toupper(set));
    };
    special(04000, 3, 's');
    special(02000, 6, 's');
    special(01000, 9, 't');

    char size[24];
    std::snprintf(size, sizeof size, " %10llu ", static_cast<unsigned long long>(entry.size));
    std::string line = mode + size + entry.path;
    if (entry.type == LayerEntry::Type::symlink) line += " -> " + entry.link_target;
    if (entry.type == LayerEntry::Type::hardlink) line += " link to " + entry.link_target;
    return line;
}

LayerListing list_layer(const BodySource& source, const LayerLimits& limits) {
    CompressedInput input{.source = &source};
    ReadArchive gunzip(archive_read_new());
    if (!gunzip) throw std::runtime_error("libarchive could not create a reader");
    archive_read_support_filter_gzip(gunzip.get());
    archive_read_support_format_raw(gunzip.get());
    if (archive_read_open(gunzip.get(), &input, nullptr, &CompressedInput::read, nullptr) != ARCHIVE_OK)
        fail(gunzip.get(), input.error, nullptr, "layer cannot be opened");
    archive_entry* stream_header = nullptr;
    const int opened = archive_read_next_header(gunzip.get(), &stream_header);
    if (opened == ARCHIVE_EOF) throw std::runtime_error("layer is empty");
    if (opened < ARCHIVE_WARN) fail(gunzip.get(), input.error, nullptr, "layer cannot be read");
    // Without the gzip filter libarchive would pass other data through unchanged.
    if (archive_filter_code(gunzip.get(), 0) != ARCHIVE_FILTER_GZIP)
        throw std::runtime_error("layer is not gzip-compressed");

    UncompressedStream tar_bytes{.gunzip = gunzip.get(), .limit = limits.max_uncompressed_bytes};
    ReadArchive tar(archive_read_new());
    if (!tar) throw std::runtime_error("libarchive could not create a reader");
    archive_read_support_format_tar(tar.get());
    if (archive_read_open(tar.get(), &tar_bytes, nullptr, &UncompressedStream::read, nullptr) != ARCHIVE_OK)
        fail(tar.get(), input.error, tar_bytes.error, "layer is not a tar");

    std::vector<LayerEntry> entries;
    for (;;) {
        archive_entry* header = nullptr;
        const int status = archive_read_next_header(tar.get(), &header);
        if (status == ARCHIVE_EOF) break;
        if (status < ARCHIVE_WARN)
            fail(tar.get(), input.error, tar_bytes.error,
                 entries.empty() ? "layer is not a tar" : "layer's tar is corrupt");
        if (entries.size() == limits.max_entries)
            throw std::runtime_error("layer has more than " + std::to_string(limits.max_entries) +
                                     " entries; refusing to read further");
        entries.push_back(to_entry(header));
        if (archive_read_data_skip(tar.get()) < ARCHIVE_WARN)
            fail(tar.get(), input.error, tar_bytes.error, "layer's tar is corrupt at " + entries.back().path);
    }
    // The tar ends before the stream does (padding to a full record): the diff ID covers all.
    try {
        while (tar_bytes.next() > 0) {
        }
    } catch (...) {
        if (input.error) std::rethrow_exception(input.error);
        throw;
    }
    return LayerListing{.entries = std::move(entries),
                        .uncompressed_size = tar_bytes.size,
                        .diff_id = tar_bytes.hash.finish()};
}

LayerListing list_layer(std::string_view gzipped_tar, const LayerLimits& limits) {
    std::size_t offset = 0;
    return list_layer(
        [&](char* buffer, std::size_t capacity) {
            const std::size_t n = std::min(capacity, gzipped_tar.size() - offset);
            std::copy_n(gzipped_tar.data() + offset, n, buffer);
            offset += n;
            return n;
        },
        limits);
}

}  // namespace wbclient
