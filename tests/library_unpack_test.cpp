// Whole images unpacked (wbclient/image/image_unpacker): the OCI image-spec's layer rules, the
// same rootfs as `umoci unpack` makes, and extract_layer's safety rules across a stack of layers.
#include "rootfs_comparison.hpp"
#include "workspace.hpp"

#include "wbclient/image/image_builder.hpp"
#include "wbclient/image/image_unpacker.hpp"
#include "wbclient/image/layer_builder.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/model/files.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace wbclient;
namespace fs = std::filesystem;

namespace {

// An image of `layers` (base first) in a new OCI layout at `layout`, tagged `tag`.
void write_layout(const std::vector<BuiltLayer>& layers, const fs::path& layout, const std::string& tag) {
    std::vector<ImageLayer> image_layers;
    for (const auto& layer : layers) image_layers.push_back({layer, "layer " + layer.file.filename().string()});
    const BuiltImage image = assemble_image({}, image_layers);
    OciLayoutWriter writer(layout);
    for (const auto& layer : layers)
        writer.add_blob(layer.blob, [&](const BodySink& sink) {
            const std::string bytes = read_file(layer.file);
            sink(bytes.data(), bytes.size());
        });
    writer.add_blob(image.config_blob, image.config);
    writer.add_blob(image.manifest_blob, image.manifest);
    writer.commit(image.manifest_blob, tag);
}

std::string contents(const fs::path& file) { return read_file(file); }

}  // namespace

TEST_CASE("unpack: whiteouts, an opaque folder, hard links across layers, files and folders trading places",
          "[library][unpack]") {
    harness::Workspace workspace("library-unpack-rules");
    const fs::path w = workspace.path();

    LayerBuilder base;
    base.add_directory("etc");
    base.add_file("etc/motd", "hello\n");
    base.add_file("etc/passwd", "root:x:0:0\n");
    base.add_directory("etc/conf.d");
    base.add_file("etc/conf.d/a.conf", "a\n");
    base.add_directory("etc/conf.d/sub");
    base.add_file("etc/conf.d/sub/deep", "deep\n");
    base.add_directory("bin");
    base.add_file("bin/tool", "tool v1\n", 0755);
    base.add_directory("lib");
    base.add_file("lib/libx.so", "x\n");
    base.add_file("data", "a file, for now\n");
    base.add_directory("cache");
    base.add_file("cache/old", "stale\n");
    base.add_symlink("greeting", "etc/motd");
    base.add_directory("tmp", 01777);

    LayerBuilder middle;
    middle.add_whiteout("etc/passwd");           // a file deleted
    middle.add_opaque_marker("etc/conf.d");      // a folder replaced: only c.conf is left
    middle.add_directory("etc/conf.d", 0750);
    middle.add_file("etc/conf.d/c.conf", "c\n");
    middle.add_file("cache", "a folder became this file\n", 0600);
    middle.add_directory("data");                // a file became a folder
    middle.add_file("data/inside", "inside\n");
    middle.add_hard_link("bin/tool-link", "bin/tool");  // to a file of the layer below
    middle.add_whiteout("greeting");             // a symlink deleted, not what it points to

    LayerBuilder top;
    top.add_file("etc/passwd", "root:x:0:0:back again\n");  // deleted below, written anew
    top.add_whiteout("lib");                                // a whole folder deleted
    top.add_file("bin/tool", "tool v2\n", 0755);            // the link keeps v1's bytes

    const std::vector<BuiltLayer> layers = {base.write(w / "base.tar.gz"), middle.write(w / "middle.tar.gz"),
                                            top.write(w / "top.tar.gz")};
    write_layout(layers, w / "image.oci", "rules");

    const auto tree = test_support::check_same_rootfs_as_umoci(w / "image.oci", "rules", w);
    const fs::path root = w / "ours";
    CHECK(contents(root / "etc/passwd") == "root:x:0:0:back again\n");
    CHECK(contents(root / "etc/motd") == "hello\n");
    CHECK(fs::exists(root / "etc/conf.d/c.conf"));
    CHECK_FALSE(fs::exists(root / "etc/conf.d/a.conf"));
    CHECK_FALSE(fs::exists(root / "etc/conf.d/sub"));
    CHECK((fs::status(root / "etc/conf.d").permissions() & fs::perms::all) == fs::perms(0750));
    CHECK(fs::is_regular_file(fs::symlink_status(root / "cache")));
    CHECK(contents(root / "data/inside") == "inside\n");
    CHECK_FALSE(fs::exists(root / "lib"));
    CHECK_FALSE(fs::exists(fs::symlink_status(root / "greeting")));
    CHECK(contents(root / "bin/tool") == "tool v2\n");
    CHECK(contents(root / "bin/tool-link") == "tool v1\n");
    CHECK(tree.at("tmp") == "1777 dir");
    for (const auto& [path, what] : tree) CHECK(path.find(".wh.") == std::string::npos);

    // The same layers, straight from their files, give the same tree; the count of whiteouts
    // applied is the layers' four.
    const auto unpacked = unpack_layers({layers[0].file, layers[1].file, layers[2].file}, w / "again");
    CHECK(unpacked.layers == 3);
    CHECK(unpacked.whiteouts == 4);
    CHECK(test_support::describe_tree(w / "again") == tree);
    // One layer on its own, as extract_layer sees it: a whiteout is a plain file there, and a
    // hard link to a file of the layer below names nothing.
    extract_layer(layers[2].file, w / "top-alone");
    CHECK(fs::is_regular_file(w / "top-alone/.wh.lib"));
    CHECK_THROWS_WITH(extract_layer(layers[1].file, w / "middle-alone"),
                      Catch::Contains("'bin/tool-link' is a hard link to 'bin/tool', which is not a file extracted before it"));
}

TEST_CASE("unpack: extract_layer's safety rules hold across layers", "[library][unpack]") {
    harness::Workspace workspace("library-unpack-safety");
    const fs::path w = workspace.path();
    LayerBuilder base;
    base.add_directory("etc");
    base.add_file("etc/motd", "hello\n");
    base.add_symlink("shortcut", "etc");  // points inside: fine to have, not to write through
    const BuiltLayer lower = base.write(w / "lower.tar.gz");

    const auto refused = [&](LayerBuilder upper, const std::string& name) {
        const BuiltLayer layer = upper.write(w / (name + ".tar.gz"));
        const fs::path target = w / name;
        try {
            unpack_layers({lower.file, layer.file}, target);
            FAIL(name << " was unpacked");
        } catch (const LayerEntryRefused& error) {
            const std::string message = error.what();
            CHECK(message.find('\n') == std::string::npos);
            CHECK_FALSE(fs::exists(target));  // all or nothing
            return message;
        }
        return std::string();
    };
    LayerBuilder through;
    through.add_file("shortcut/motd", "overwritten through a lower layer's symlink\n");
    CHECK_THAT(refused(through, "write-through"), Catch::Contains("would be written through the symlink shortcut"));
    LayerBuilder deleting;
    deleting.add_whiteout("shortcut/motd");
    CHECK_THAT(refused(deleting, "delete-through"), Catch::Contains("would be written through the symlink shortcut"));
    LayerBuilder dangling;
    dangling.add_whiteout("etc/motd");
    dangling.add_hard_link("motd-link", "etc/motd");  // the file it names is gone
    CHECK_THAT(refused(dangling, "link-to-deleted"), Catch::Contains("which is not a file extracted before it"));
    LayerBuilder outward;
    outward.add_whiteout("shortcut");
    outward.add_symlink("shortcut", "../../outside");
    CHECK_THAT(refused(outward, "escape"), Catch::Contains("points outside the layer"));
    CHECK(contents(w / "lower.tar.gz").size() == lower.blob.size);  // inputs untouched

    // The limits count the whole image, not each layer.
    LayerBuilder big;
    big.add_file("big", std::string(600, 'x'));
    const BuiltLayer one = big.write(w / "big1.tar.gz");
    CHECK_NOTHROW(unpack_layers({one.file}, w / "one", {.max_total_bytes = 1000}));
    CHECK_THROWS_AS(unpack_layers({one.file, one.file}, w / "two", {.max_total_bytes = 1000}), LayerEntryRefused);
    CHECK_FALSE(fs::exists(w / "two"));

    // Something that is not a layout: nothing written.
    CHECK_THROWS_WITH(unpack_image(w / "nowhere", w / "three"), Catch::Contains("is not an OCI layout"));
    CHECK_FALSE(fs::exists(w / "three"));
}
