#include "wbclient/image/layer_writer.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace wbclient::detail {
namespace fs = std::filesystem;

namespace {

struct ReaderFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
struct WriterFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
using Reader = std::unique_ptr<archive, ReaderFree>;

// libarchive's messages are one line already; make sure of it.
std::string reason_of(archive* a) {
    const char* text = archive_error_string(a);
    std::string reason = text ? text : "unknown error";
    std::replace(reason.begin(), reason.end(), '\n', ' ');
    return reason;
}

Reader open_layer(const fs::path& layer_file, const std::string& layer_name) {
    Reader reader(archive_read_new());
    archive_read_support_filter_gzip(reader.get());
    archive_read_support_format_tar(reader.get());
    if (archive_read_open_filename(reader.get(), layer_file.c_str(), 1 << 16) != ARCHIVE_OK)
        throw std::runtime_error(layer_name + ": " + reason_of(reader.get()));
    return reader;
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

// Nothing may be written (or removed) through a symlink: every folder on the way must be a
// real folder. A lower layer's symlink counts as much as one of this layer.
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

std::string entry_name(archive_entry* entry) {
    return archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
}

// The image-spec's whiteout prefix; ".wh..wh." starts the markers that are not a deleted name.
constexpr std::string_view whiteout_prefix = ".wh.";
constexpr std::string_view opaque_marker = ".wh..wh..opq";
constexpr std::string_view marker_prefix = ".wh..wh.";

}  // namespace

LayerWriter::LayerWriter(fs::path root, ExtractionLimits limits)
    : root_(std::move(root)), limits_(limits) {}

void LayerWriter::remove_whited_out(const fs::path& layer_file, const std::string& layer_name) {
    const Reader reader = open_layer(layer_file, layer_name);
    std::size_t entries = totals_.entries;
    std::uint64_t declared = totals_.bytes;
    archive_entry* entry = nullptr;
    while (true) {
        const int status = archive_read_next_header(reader.get(), &entry);
        if (status == ARCHIVE_EOF) break;
        if (status < ARCHIVE_WARN) throw std::runtime_error(layer_name + ": " + reason_of(reader.get()));
        // The same bounds as the writing pass, from the headers alone: this pass skips the
        // contents, but skipping a gzip bomb still means inflating it.
        if (++entries > limits_.max_entries)
            throw std::runtime_error(layer_name + " has more than " + std::to_string(limits_.max_entries) +
                                     " entries");
        const std::string name = entry_name(entry);
        const std::string what = layer_name + ": entry '" + name + "'";
        if (archive_entry_size(entry) > 0 &&
            (declared += static_cast<std::uint64_t>(archive_entry_size(entry))) > limits_.max_total_bytes)
            throw LayerEntryRefused(what + " would take the layer past its limit of " +
                                     std::to_string(limits_.max_total_bytes) + " bytes");
        const std::vector<std::string> parts = safe_components(name, what);
        if (parts.empty() || !parts.back().starts_with(whiteout_prefix)) continue;
        check_no_symlink_on_the_way(root_, parts, what);
        //! [whiteouts]
        const fs::path folder = root_ / join({parts.begin(), parts.end() - 1});
        const std::string& base = parts.back();
        if (base == opaque_marker) {
            // An opaque folder: what lower layers put in it is gone, the folder itself stays.
            if (fs::is_directory(fs::symlink_status(folder)))
                for (const auto& child : fs::directory_iterator(folder)) fs::remove_all(child.path());
            ++whiteouts_;
        } else if (!base.starts_with(marker_prefix)) {
            const std::string deleted = base.substr(whiteout_prefix.size());
            if (deleted.empty() || deleted == "." || deleted == "..")
                throw LayerEntryRefused(what + " is a whiteout that names no file");
            // remove_all removes a symlink itself, never what it points to.
            fs::remove_all(folder / deleted);
            ++whiteouts_;
        }
        // Other ".wh..wh." names are aufs's own bookkeeping (hard link tables): nothing to delete.
        //! [whiteouts]
    }
}

void LayerWriter::apply(const fs::path& layer_file, Whiteouts whiteouts) {
    const std::string layer_name = "layer " + layer_file.filename().string();
    if (whiteouts == Whiteouts::applied) remove_whited_out(layer_file, layer_name);

    const Reader reader = open_layer(layer_file, layer_name);
    std::unique_ptr<archive, WriterFree> writer(archive_write_disk_new());
    // Defence in depth: libarchive refuses ".." and symlinked paths too. Owners, ACLs,
    // extended attributes and file flags are not restored.
    archive_write_disk_set_options(writer.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                     ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                     ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    archive_entry* entry = nullptr;
    while (true) {
        const int status = archive_read_next_header(reader.get(), &entry);
        if (status == ARCHIVE_EOF) break;
        if (status < ARCHIVE_WARN) throw std::runtime_error(layer_name + ": " + reason_of(reader.get()));
        if (++totals_.entries > limits_.max_entries)
            throw std::runtime_error(layer_name + " has more than " + std::to_string(limits_.max_entries) +
                                     " entries");
        const std::string name = entry_name(entry);
        const std::string what = layer_name + ": entry '" + name + "'";
        const std::vector<std::string> parts = safe_components(name, what);
        if (parts.empty()) continue;  // "./": the target itself
        if (whiteouts == Whiteouts::applied && parts.back().starts_with(whiteout_prefix))
            continue;  // applied above; never a file of the image
        check_no_symlink_on_the_way(root_, parts, what);

        const fs::path destination = root_ / join(parts);
        const bool is_hard_link = archive_entry_hardlink(entry) != nullptr;
        if (is_hard_link) {
            const std::string link = archive_entry_hardlink(entry);
            const std::vector<std::string> linked = safe_components(link, what + "'s hard link target");
            check_no_symlink_on_the_way(root_, linked, what + "'s hard link target");
            const fs::path original = root_ / join(linked);
            // A file of this layer or of one below: a hard link may cross layers.
            if (linked.empty() || linked == parts || !fs::is_regular_file(fs::symlink_status(original)))
                throw LayerEntryRefused(what + " is a hard link to '" + link +
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
            totals_.bytes + static_cast<std::uint64_t>(archive_entry_size(entry)) > limits_.max_total_bytes)
            throw LayerEntryRefused(what + " would take the layer past its limit of " +
                                     std::to_string(limits_.max_total_bytes) + " bytes");
        // What the path holds already goes first: a folder over a folder merges, anything else
        // replaces (a file by a folder, a folder and all it holds by a file). A symlink is
        // removed, never followed; a file is unlinked, never rewritten in place, since another
        // hard link may share its contents.
        //! [replace]
        const auto existing = fs::symlink_status(destination);
        const bool merges = !is_hard_link && archive_entry_filetype(entry) == AE_IFDIR && fs::is_directory(existing);
        if (fs::exists(existing) && !merges) fs::remove_all(destination);
        //! [replace]
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
            totals_.bytes += size;
            if (totals_.bytes > limits_.max_total_bytes)
                throw LayerEntryRefused(what + " takes the layer past its limit of " +
                                         std::to_string(limits_.max_total_bytes) + " bytes");
            if (archive_write_data_block(writer.get(), block, size, offset) < ARCHIVE_WARN)
                throw std::runtime_error(what + ": " + reason_of(writer.get()));
        }
        if (archive_write_finish_entry(writer.get()) < ARCHIVE_WARN)
            throw std::runtime_error(what + ": " + reason_of(writer.get()));
    }
    // Closing applies the folders' permissions and times, deferred until their files exist.
    if (archive_write_close(writer.get()) < ARCHIVE_WARN)
        throw std::runtime_error(layer_name + ": " + reason_of(writer.get()));
}

// Each link's target is checked as text when it is written, but a later link can change what
// an earlier one means (p -> ., then q -> p/..). So once everything is written, every symlink
// is resolved the way the kernel would, and must still land inside the tree.
void LayerWriter::check_symlinks(const std::string& what, const std::string& whole) const {
    const fs::path inside = fs::weakly_canonical(root_);
    for (const auto& entry : fs::recursive_directory_iterator(root_)) {
        if (!entry.is_symlink()) continue;
        const fs::path resolved = fs::weakly_canonical(entry.path());
        const auto [end, _] = std::mismatch(inside.begin(), inside.end(), resolved.begin(), resolved.end());
        if (end != inside.end())
            throw LayerEntryRefused(what + ": symlink " + entry.path().lexically_relative(root_).string() +
                                     " resolves outside the " + whole);
    }
}

}  // namespace wbclient::detail
