// The rootfs our library unpacks, next to the one `umoci unpack` makes of the same OCI layout:
// the tests of every chapter that builds or pushes images (03, 05, 07, 09, 11, 13-16) and
// library.unpack compare the two, entry by entry.
#pragma once

#include "program_runner.hpp"
#include "registry_instance.hpp"
#include "test_support.hpp"

#include "wbclient/image/image_unpacker.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/model/digest.hpp"
#include "wbclient/model/manifest.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace test_support {

/// Every entry of a tree, by path: its type, permission bits, and contents (a file's sha256
/// and link count, a symlink's target). Owners and times are left out: umoci --rootless
/// cannot set owners, and neither tool promises times of folders it wrote into later.
inline std::map<std::string, std::string> describe_tree(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    std::map<std::string, std::string> tree;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        struct stat info {};
        REQUIRE(::lstat(it->path().c_str(), &info) == 0);
        std::ostringstream line;
        line << std::oct << (info.st_mode & 07777) << std::dec << " ";
        if (S_ISDIR(info.st_mode)) line << "dir";
        else if (S_ISLNK(info.st_mode)) line << "symlink -> " << fs::read_symlink(it->path()).string();
        else if (S_ISREG(info.st_mode))
            line << "file " << wbclient::digest_of_file(it->path()).str() << " links " << info.st_nlink;
        else line << "other type " << (info.st_mode & S_IFMT);
        tree[it->path().lexically_relative(root).string()] = line.str();
    }
    return tree;
}

inline std::string show(const std::map<std::string, std::string>& tree) {
    std::string text;
    for (const auto& [path, what] : tree) text += path + ": " + what + "\n";
    return text;
}

/// `skopeo copy [options] docker://<image> oci:<layout>:<tag>`: the layout umoci unpacks, and
/// unpack_image too (`options`: say, --override-arch to take one platform of an index).
inline std::filesystem::path copy_to_layout(const std::string& image, const std::filesystem::path& layout,
                                            const std::string& tag, const std::vector<std::string>& options = {}) {
    std::vector<std::string> argv = {"skopeo", "copy", "--quiet", "--src-tls-verify=false"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("docker://" + image);
    argv.push_back("oci:" + layout.string() + ":" + tag);
    const auto copied = harness::run_program(argv);
    INFO(image << ": " << copied.out << copied.err);
    REQUIRE(copied.exit_code == 0);
    return layout;
}

/// An OCI layout, tagged `tag`, of the image manifest `manifest` read from the registry's own
/// storage. For images a chapter pushed and then deleted through the API (07, 13, 14): the registry
/// stops serving the manifest, but its bytes and its blobs stay on disk until the garbage
/// collector runs. OciLayoutWriter keeps each blob only if it matches its descriptor's digest.
inline std::filesystem::path layout_from_storage(const harness::RegistryInstance& registry,
                                                 const wbclient::Digest& manifest,
                                                 const std::filesystem::path& layout, const std::string& tag) {
    const std::string bytes = read_existing_file(registry.blob_data(manifest));
    const auto parsed = wbclient::Manifest::parse(bytes, "");  // its own mediaType says what it is
    REQUIRE_FALSE(parsed.is_index());
    const wbclient::Descriptor descriptor = wbclient::descriptor_of(parsed.media_type, bytes);
    REQUIRE(descriptor.digest == manifest);
    wbclient::OciLayoutWriter writer(layout);
    for (const auto& blob : parsed.references())
        writer.add_blob(blob, read_existing_file(registry.blob_data(blob.digest)));
    writer.add_blob(descriptor, bytes);
    writer.commit(descriptor, tag);
    return layout;
}

/// Unpacks the OCI layout `layout` (its one image, tagged `tag`) with unpack_image into
/// `<work>/ours` and with `umoci unpack --rootless` into `<work>/umoci`, and checks the two
/// rootfs hold the same entries. Returns our tree, for the caller's own checks.
inline std::map<std::string, std::string> check_same_rootfs_as_umoci(const std::filesystem::path& layout,
                                                                    const std::string& tag,
                                                                    const std::filesystem::path& work) {
    std::filesystem::create_directories(work);
    const auto ours = work / "ours";
    wbclient::unpack_image(layout, ours);
    const auto bundle = work / "umoci";
    const auto umoci = harness::run_program(
        {"umoci", "unpack", "--rootless", "--image", layout.string() + ":" + tag, bundle.string()});
    INFO("umoci: " << umoci.out << umoci.err);
    REQUIRE(umoci.exit_code == 0);
    const auto our_tree = describe_tree(ours);
    const auto umoci_tree = describe_tree(bundle / "rootfs");
    INFO("ours:\n" << show(our_tree) << "umoci's:\n" << show(umoci_tree));
    CHECK(our_tree == umoci_tree);
    CHECK_FALSE(our_tree.empty());
    return our_tree;
}

}  // namespace test_support
