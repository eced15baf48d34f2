#include "wbclient/image/layer_extractor.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace wbclient {
namespace fs = std::filesystem;

namespace {

struct ReaderFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
struct WriterFree {
    void operator()(archive* a) const { archive_write_free(a); }
};

// libarchive's messages are one line already; make sure of it.
std::string reason_of(archive* a) {
    const char* text = archive_error_string(a);
    std::string reason = text ? text : "unknown error";
    std::replace(reason.begin(), reason.end(), '\n', ' ');
    return reason;
}

// Splits a tar path into its components, dropping "" and "."; an absolute path or a ".."
// component is refused, since either could name a place outside the target.
std::vector<std::string> safe_components(const std::string& path, const std::string& what) {
    if (path.starts_with("/")) throw LayerEntryRefused(what + " is an absolute path");
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t slash = std::min(path.find('/', start), path.size());
        const std::string part = path.substr(start, slash - start);
        if (part == "..") throw LayerEntryRefused(what + " climbs out with '..'");
        if (!part.empty() && part != ".") parts.push_back(part);
        start = slash + 1;
    }
    return parts;
}

std::string join(const std::vector<std::string>& parts) {
    std::string joined;
    for (const auto& part : parts) joined += (joined.empty() ? "" : "/") + part;
    return joined;
}

// A symlink's target is read relative to the folder holding the link; resolved by name
// only, it must stay inside the layer at every step.
void check_symlink_target(const std::vector<std::string>& link, const std::string& target,
                          const std::string& what) {
    if (target.empty()) throw LayerEntryRefused(what + " is a symlink without a target");
    if (target.starts_with("/"))
        throw LayerEntryRefused(what + " is a symlink to the absolute path " + target +
                                 ", which would point outside the layer");
    std::vector<std::string> resolved(link.begin(), link.end() - 1);
    std::size_t start = 0;
    while (start <= target.size()) {
        const std::size_t slash = std::min(target.find('/', start), target.size());
        const std::string part = target.substr(start, slash - start);
        if (part == "..") {
            if (resolved.empty())
                throw LayerEntryRefused(what + " is a symlink to " + target +
                                         ", which points outside the layer");
            resolved.pop_back();
        } else if (!part.empty() && part != ".") {
            resolved.push_back(part);
        }
        start = slash + 1;
    }
}

// Each link's target is checked as text when it is written, but a later link can change what
// an earlier one means (p -> ., then q -> p/..). So once everything is written, every symlink
// is resolved the way the kernel would, and must still land inside the extracted tree.
void check_symlinks_stay_inside(const fs::path& root, const std::string& layer_name) {
    const fs::path inside = fs::weakly_canonical(root);
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (!entry.is_symlink()) continue;
        const fs::path resolved = fs::weakly_canonical(entry.path());
        const auto [end, _] = std::mismatch(inside.begin(), inside.end(), resolved.begin(), resolved.end());
        if (end != inside.end())
            throw LayerEntryRefused(layer_name + ": symlink " +
                                     entry.path().lexically_relative(root).string() +
                                     " resolves outside the layer");
    }
}

// Nothing may be written through a symlink: every folder on the way must be a real folder.
void check_no_symlink_on_the_way(const fs::path& root, const std::vector<std::string>& parts,
                                 const std::string& what) {
    fs::path on_the_way = root;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        on_the_way /= parts[i];
        if (fs::is_symlink(fs::symlink_status(on_the_way)))
            throw LayerEntryRefused(what + " would be written through the symlink " +
                                     join({parts.begin(), parts.begin() + static_cast<long>(i) + 1}));
    }
}

}  // namespace

ExtractedLayer extract_layer(const fs::path& layer_file, const fs::path& target,
                             const ExtractionLimits& limits) {
    const std::string layer_name = "layer " + layer_file.filename().string();
    std::unique_ptr<archive, ReaderFree> reader(archive_read_new());
    archive_read_support_filter_gzip(reader.get());
    archive_read_support_format_tar(reader.get());
    if (archive_read_open_filename(reader.get(), layer_file.c_str(), 1 << 16) != ARCHIVE_OK)
        throw std::runtime_error(layer_name + ": " + reason_of(reader.get()));

    StagedDirectory staged(target);
    std::unique_ptr<archive, WriterFree> writer(archive_write_disk_new());
    // Defence in depth: libarchive refuses ".." and symlinked paths too. Owners, ACLs,
    // extended attributes and file flags are not restored.
    archive_write_disk_set_options(writer.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                     ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                     ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    ExtractedLayer extracted;
    archive_entry* entry = nullptr;
    while (true) {
        const int status = archive_read_next_header(reader.get(), &entry);
        if (status == ARCHIVE_EOF) break;
        if (status < ARCHIVE_WARN) throw std::runtime_error(layer_name + ": " + reason_of(reader.get()));
        if (++extracted.entries > limits.max_entries)
            throw std::runtime_error(layer_name + " has more than " +
                                     std::to_string(limits.max_entries) + " entries");
        const std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
        const std::string what = layer_name + ": entry '" + name + "'";
        const std::vector<std::string> parts = safe_components(name, what);
        if (parts.empty()) continue;  // "./": the target itself
        check_no_symlink_on_the_way(staged.path(), parts, what);

        const fs::path destination = staged.path() / join(parts);
        if (const char* link = archive_entry_hardlink(entry)) {
            const std::vector<std::string> linked = safe_components(link, what + "'s hard link target");
            check_no_symlink_on_the_way(staged.path(), linked, what + "'s hard link target");
            const fs::path original = staged.path() / join(linked);
            if (linked.empty() || !fs::is_regular_file(fs::symlink_status(original)))
                throw LayerEntryRefused(what + " is a hard link to '" + std::string(link) +
                                         "', which is not a file extracted before it");
            archive_entry_set_hardlink(entry, original.c_str());
        } else {
            switch (archive_entry_filetype(entry)) {
                case AE_IFREG: case AE_IFDIR: break;
                case AE_IFLNK:
                    check_symlink_target(parts, archive_entry_symlink(entry) ? archive_entry_symlink(entry) : "", what);
                    break;
                case AE_IFCHR: case AE_IFBLK:
                    throw LayerEntryRefused(what + " is a device node; refusing to create it");
                default:
                    throw LayerEntryRefused(what + " is a fifo, a socket or of unknown type; refusing to create it");
            }
        }
        if (archive_entry_size(entry) > 0 &&
            extracted.bytes + static_cast<std::uint64_t>(archive_entry_size(entry)) > limits.max_total_bytes)
            throw LayerEntryRefused(what + " would take the layer past its limit of " +
                                     std::to_string(limits.max_total_bytes) + " bytes");
        // A symlink already at this path is replaced, never followed.
        if (fs::is_symlink(fs::symlink_status(destination))) fs::remove(destination);
        archive_entry_set_pathname(entry, destination.c_str());
        archive_entry_set_perm(entry, archive_entry_perm(entry) & 01777);  // no setuid/setgid
        if (archive_write_header(writer.get(), entry) < ARCHIVE_WARN)
            throw std::runtime_error(what + ": " + reason_of(writer.get()));

        const void* block = nullptr;
        std::size_t size = 0;
        la_int64_t offset = 0;
        while (true) {
            const int read = archive_read_data_block(reader.get(), &block, &size, &offset);
            if (read == ARCHIVE_EOF) break;
            if (read < ARCHIVE_WARN) throw std::runtime_error(what + ": " + reason_of(reader.get()));
            extracted.bytes += size;
            if (extracted.bytes > limits.max_total_bytes)
                throw LayerEntryRefused(what + " takes the layer past its limit of " +
                                         std::to_string(limits.max_total_bytes) + " bytes");
            if (archive_write_data_block(writer.get(), block, size, offset) < ARCHIVE_WARN)
                throw std::runtime_error(what + ": " + reason_of(writer.get()));
        }
        if (archive_write_finish_entry(writer.get()) < ARCHIVE_WARN)
            throw std::runtime_error(what + ": " + reason_of(writer.get()));
    }
    // Closing applies the folders' permissions and times, deferred until their files exist.
    if (archive_write_close(writer.get()) < ARCHIVE_WARN)
        throw std::runtime_error(layer_name + ": " + reason_of(writer.get()));
    check_symlinks_stay_inside(staged.path(), layer_name);
    staged.commit();
    return extracted;
}

bool same_contents(const fs::path& a, const fs::path& b) {
    std::ifstream first(a, std::ios::binary);
    std::ifstream second(b, std::ios::binary);
    if (!first) throw std::runtime_error("cannot read " + a.string());
    if (!second) throw std::runtime_error("cannot read " + b.string());
    if (fs::file_size(a) != fs::file_size(b)) return false;
    std::array<char, 1 << 16> x{};
    std::array<char, 1 << 16> y{};
    while (first && second) {
        first.read(x.data(), x.size());
        second.read(y.data(), y.size());
        if (first.gcount() != second.gcount() ||
            !std::equal(x.begin(), x.begin() + first.gcount(), y.begin()))
            return false;
    }
    if (first.bad() || second.bad()) throw std::runtime_error("error reading " + a.string() + " or " + b.string());
    return true;
}

}  // namespace wbclient
