// The image layer on its own: layers built and extracted, OCI layouts (wbclient/image/).
#include "wbclient/model/digest.hpp"
#include "wbclient/image/layer_builder.hpp"
#include "wbclient/image/layer_extractor.hpp"
#include "wbclient/model/manifest.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "workbook_paths.hpp"
#include "workspace.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>

#include <fstream>

using namespace wbclient;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> list_entries(const fs::path& layer) {
    std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
    archive_read_support_filter_gzip(reader.get());
    archive_read_support_format_tar(reader.get());
    REQUIRE(archive_read_open_filename(reader.get(), layer.c_str(), 1 << 16) == ARCHIVE_OK);
    std::vector<std::string> names;
    archive_entry* entry = nullptr;
    while (archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK) {
        CHECK(archive_entry_mtime(entry) == 0);
        CHECK(archive_entry_uid(entry) == 0);
        names.emplace_back(archive_entry_pathname(entry));
    }
    return names;
}

}  // namespace

TEST_CASE("layers: deterministic tar+gzip with both digests computed in one pass", "[library][image]") {
    harness::Workspace workspace("library-layers");
    const auto build = [&](const fs::path& output) {
        LayerBuilder layer;
        layer.add_file("etc/motd", "hello\n");
        layer.add_directory("etc");
        layer.add_symlink("bin/sh", "busybox");
        return layer.write(output);
    };
    const BuiltLayer first = build(workspace.path() / "one.tar.gz");
    const BuiltLayer second = build(workspace.path() / "two.tar.gz");
    CHECK(first.blob.digest == second.blob.digest);
    CHECK(first.diff_id == second.diff_id);
    CHECK(first.blob.digest == digest_of_file(first.file));
    CHECK(first.blob.size == fs::file_size(first.file));
    CHECK(first.diff_id != first.blob.digest);
    CHECK(list_entries(first.file) == std::vector<std::string>{"bin/sh", "etc/", "etc/motd"});

    LayerBuilder escaping;
    CHECK_THROWS_WITH(escaping.add_file("../etc/passwd", "x"), Catch::Contains("stay inside the layer"));
}

TEST_CASE("layouts: nothing appears unless every blob verified", "[library][image]") {
    harness::Workspace workspace("library-layout");
    const std::string config = "{}";
    const Descriptor config_blob{.media_type = std::string(media_type::oci_config),
                                 .digest = digest_of(config), .size = config.size()};
    const std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
        descriptor_to_json(config_blob).dump() + R"(,"layers":[]})";
    const Descriptor manifest_blob{.media_type = std::string(media_type::oci_manifest),
                                   .digest = digest_of(manifest), .size = manifest.size()};

    const fs::path good = workspace.path() / "good.oci";
    {
        OciLayoutWriter writer(good);
        writer.add_blob(config_blob, config);
        writer.add_blob(manifest_blob, manifest);
        writer.commit(manifest_blob, "v1");
    }
    CHECK(verify_oci_layout(good) == 2);
    CHECK_THROWS_WITH(OciLayoutWriter(good), Catch::Contains("already exists"));

    const fs::path bad = workspace.path() / "bad.oci";
    {
        OciLayoutWriter writer(bad);
        CHECK_THROWS_WITH(writer.add_blob(config_blob, std::string("{ }")), Catch::Contains("did not verify"));
    }
    CHECK_FALSE(fs::exists(bad));
    for (const auto& entry : fs::directory_iterator(workspace.path()))
        CHECK(entry.path().filename().string().find("partial") == std::string::npos);

    // A corrupted blob on disk is caught by verification.
    std::ofstream(good / "blobs" / "sha256" / std::string(config_blob.digest.hex())) << "{ }";
    CHECK_THROWS_WITH(verify_oci_layout(good), Catch::Contains("is corrupt"));
}

TEST_CASE("extraction: links that only escape together are refused (fuzzer finding)", "[library][image]") {
    // p -> . and q -> p/.. each look inside the layer as text; together q is the parent folder.
    harness::Workspace workspace("library-symlink-escape");
    const fs::path reproducer =
        fs::path(harness::paths::source_dir) / "fuzz" / "known" / "extractor_symlink_escape.tar";
    REQUIRE(fs::exists(reproducer));
    const fs::path target = workspace.path() / "root";
    CHECK_THROWS_WITH(extract_layer(reproducer, target), Catch::Contains("resolves outside the layer"));
    CHECK_THROWS_AS(extract_layer(reproducer, target), LayerEntryRefused);
    CHECK_FALSE(fs::exists(target));
    for (const auto& entry : fs::directory_iterator(workspace.path()))
        CHECK(entry.path().filename().string().find("partial") == std::string::npos);
}
