// Reading a layer back with libarchive, independently of the program that built it: its
// diff_id (the SHA-256 of the gunzipped tar) and every entry's header.
#pragma once

#include "wbclient/model/digest.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace test_support {

// What the test reads back from a tar, with libarchive, independently of the program.
struct TarEntry {
    std::string path;
    mode_t type;
    unsigned perm;
    la_int64_t uid, gid, mtime;
    std::string uname, gname, symlink;
};
struct ReadLayer {
    std::vector<TarEntry> entries;
    wbclient::Digest diff_id;  // SHA-256 of the gunzipped bytes
};

struct ArchiveReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
};

inline ReadLayer read_layer(const std::filesystem::path& gzipped) {
    // Pass 1: gunzip as a raw stream and hash the tar itself.
    wbclient::Sha256 hash;
    {
        std::unique_ptr<archive, ArchiveReadFree> raw(archive_read_new());
        archive_read_support_filter_gzip(raw.get());
        archive_read_support_format_raw(raw.get());
        REQUIRE(archive_read_open_filename(raw.get(), gzipped.c_str(), 1 << 16) == ARCHIVE_OK);
        archive_entry* entry = nullptr;
        REQUIRE(archive_read_next_header(raw.get(), &entry) == ARCHIVE_OK);
        std::array<char, 1 << 16> buffer{};
        la_ssize_t n = 0;
        while ((n = archive_read_data(raw.get(), buffer.data(), buffer.size())) > 0)
            hash.update(buffer.data(), static_cast<std::size_t>(n));
        REQUIRE(n == 0);
    }
    // Pass 2: list the tar's entries.
    std::vector<TarEntry> entries;
    std::unique_ptr<archive, ArchiveReadFree> tar(archive_read_new());
    archive_read_support_filter_gzip(tar.get());
    archive_read_support_format_tar(tar.get());
    REQUIRE(archive_read_open_filename(tar.get(), gzipped.c_str(), 1 << 16) == ARCHIVE_OK);
    archive_entry* entry = nullptr;
    int status = ARCHIVE_OK;
    while ((status = archive_read_next_header(tar.get(), &entry)) == ARCHIVE_OK) {
        const auto text = [](const char* s) { return std::string(s ? s : ""); };
        entries.push_back({text(archive_entry_pathname(entry)), archive_entry_filetype(entry),
                           static_cast<unsigned>(archive_entry_perm(entry)), archive_entry_uid(entry),
                           archive_entry_gid(entry), archive_entry_mtime(entry),
                           text(archive_entry_uname(entry)), text(archive_entry_gname(entry)),
                           text(archive_entry_symlink(entry))});
    }
    REQUIRE(status == ARCHIVE_EOF);
    return {entries, hash.finish()};
}

}  // namespace test_support
